"""Heads of household for printing a visit list: the one place a list meets the protected
identity table (only for an export to a user entitled to it, which the audit log records)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest import store
from ingest.tables import HOUSEHOLDS_TABLE, HUKOU_TABLES
from lowinc.home import HomeLayout

HEAD = "head"


def household_heads(home: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """(household_key, head_id_no, head_name) from the households known before ``as_of``."""
    paths = HomeLayout(home)
    month = f"{as_of:%Y-%m}"
    known = [m for m in store.months_of(paths.canonical, HOUSEHOLDS_TABLE) if m < month]
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in ("household_key", "head_id_no", "head_name")})
    if not known:
        return empty
    members = store.read_partitions(paths.canonical, HOUSEHOLDS_TABLE, [known[-1]])
    heads = members.loc[members["relation"] == HEAD, ["household_key", "person_key"]]
    identity = pd.concat(
        [
            store.read_partitions(paths.identity, t, columns=["person_key", "id_no", "name"])
            for t in HUKOU_TABLES
        ],
        ignore_index=True,
    )
    if identity.empty:
        return empty
    identity = identity.drop_duplicates("person_key", keep="last")
    out = heads.merge(identity, on="person_key", how="left").drop_duplicates("household_key")
    return out.rename(columns={"id_no": "head_id_no", "name": "head_name"})[list(empty.columns)]
