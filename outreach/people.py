"""Who a person is, by person key: the latest name and the masked ID from the protected identity
table (``<home>/secure/identity/<table>``), for people who belong to no local household (the
无本地户籍 list), whom :mod:`outreach.members` cannot reach through a membership.

Ingest writes identity rows for every source table (``ingest/canonical.py``), so a person known
only to, say, the social insurance or the residence permits is found here. Plain ID numbers are
masked here (:func:`outreach.privacy.mask_ids`) and never leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest import store
from lowinc.home import HomeLayout
from outreach.privacy import mask_ids

PEOPLE_COLUMNS = ["person_key", "name", "id_masked"]
_READ = ["person_key", "id_no", "name"]


def person_identity(layout: HomeLayout, person_keys: Sequence[str], as_of: dt.date) -> pd.DataFrame:
    """One row per given person key found in the identity tables (person_key, name, id_masked),
    from the rows known before the as-of month: the latest row with a name (a table that
    delivers the ID without a name gives the masked ID only). Keys not found are absent.

    The months are read newest first, every table's partition of a month together, and the
    reading stops once every key has a named row: a page of names costs a few partitions, not
    the whole history (the latest named month is the first one met)."""
    keys = list(dict.fromkeys(str(k) for k in person_keys))
    root = layout.identity
    if not keys or not root.exists():
        return _empty()
    before = f"{as_of:%Y-%m}"
    tables = sorted(p.name for p in root.iterdir() if p.is_dir())
    by_month: dict[str, list[str]] = {}
    for table in tables:
        for month in store.months_of(root, table):
            if month < before:
                by_month.setdefault(month, []).append(table)
    wanted = pa.array(keys, pa.string())
    parts, named = [], set[str]()
    for month in sorted(by_month, reverse=True):
        for table in by_month[month]:
            frame = _read_partition(store.partition_dir(root, table, month) / store.PART, wanted)
            if len(frame):
                parts.append(frame.assign(known_month=month, _table=table))
                named.update(frame.loc[frame["name"].notna(), "person_key"].astype(str))
        if len(named) == len(keys):
            break
    if not parts:
        return _empty()
    rows = pd.concat(parts, ignore_index=True)
    rows["_named"] = rows["name"].notna()
    latest = rows.sort_values(["_named", "known_month", "_table"], kind="stable").drop_duplicates(
        "person_key", keep="last"
    )
    out = pd.DataFrame(
        {
            "person_key": latest["person_key"].astype(str).to_numpy(),
            "name": [None if pd.isna(v) else str(v) for v in latest["name"]],
            "id_masked": mask_ids(latest["id_no"]).to_numpy(),
        }
    )
    out.loc[latest["id_no"].isna().to_numpy(), "id_masked"] = None
    return out.reset_index(drop=True)


def _read_partition(path: Path, keys: pa.Array) -> pd.DataFrame:
    """The identity columns (those the file has; the rest empty) of the rows naming ``keys``."""
    names = pq.read_schema(path).names
    if "person_key" not in names:
        return pd.DataFrame(columns=_READ)
    present = [c for c in _READ if c in names]
    table = pq.read_table(path, columns=present, filters=pc.field("person_key").isin(keys))
    frame: pd.DataFrame = table.to_pandas().reindex(columns=_READ)
    return frame


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PEOPLE_COLUMNS})
