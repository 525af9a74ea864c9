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

from ingest import people_index
from lowinc.home import HomeLayout
from outreach.privacy import mask_ids

PEOPLE_COLUMNS = ["person_key", "name", "id_masked"]


def person_identity(layout: HomeLayout, person_keys: Sequence[str], as_of: dt.date) -> pd.DataFrame:
    """One row per given person key found in the identity tables (person_key, name, id_masked),
    from the rows known before the as-of month: the latest row with a name (a table that
    delivers the ID without a name gives the masked ID only). Keys not found are absent.

    When the index of each person's latest row (:mod:`ingest.people_index`) answers for the
    month, that is one read. Otherwise the months are read newest first, every table's
    partition of a month together, and the reading stops once every key has a named row: a
    page of names costs a few partitions, not the whole history."""
    keys = list(dict.fromkeys(str(k) for k in person_keys))
    if not keys or not layout.identity.exists():
        return _empty()
    before = f"{as_of:%Y-%m}"
    latest = people_index.lookup(layout, keys, before)
    if latest is None:
        latest = _scan(layout, keys, before)
    if latest is None or latest.empty:
        return _empty()
    out = pd.DataFrame(
        {
            "person_key": latest["person_key"].astype(str).to_numpy(),
            "name": [None if pd.isna(v) else str(v) for v in latest["name"]],
            "id_masked": mask_ids(latest["id_no"]).to_numpy(),
        }
    )
    out.loc[latest["id_no"].isna().to_numpy(), "id_masked"] = None
    return out.reset_index(drop=True)


def _scan(layout: HomeLayout, keys: list[str], before: str) -> pd.DataFrame | None:
    """The latest rows of the keys from the partitions of months before ``before``, newest
    month first, stopping once every key is named (None when no row names any)."""
    by_month: dict[str, list[tuple[str, Path]]] = {}
    for table, month, path in people_index.identity_partitions(layout.identity).values():
        if month < before:
            by_month.setdefault(month, []).append((table, path))
    wanted = pa.array(keys, pa.string())
    parts, named = [], set[str]()
    for month in sorted(by_month, reverse=True):
        for table, path in by_month[month]:
            frame = people_index.read_identity(path, wanted)
            if len(frame):
                parts.append(frame.assign(known_month=month, table=table))
                named.update(frame.loc[frame["name"].notna(), "person_key"].astype(str))
        if len(named) == len(keys):
            break
    return people_index.latest_rows(pd.concat(parts, ignore_index=True)) if parts else None


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PEOPLE_COLUMNS})
