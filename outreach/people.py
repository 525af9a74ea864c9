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

import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ingest import store
from lowinc.home import HomeLayout
from outreach.privacy import mask_ids

PEOPLE_COLUMNS = ["person_key", "name", "id_masked"]
_READ = ["person_key", "id_no", "name"]


def person_identity(layout: HomeLayout, person_keys: Sequence[str], as_of: dt.date) -> pd.DataFrame:
    """One row per given person key found in the identity tables (person_key, name, id_masked),
    from the rows known before the as-of month: the latest row with a name (a table that
    delivers the ID without a name gives the masked ID only). Keys not found are absent."""
    keys = list(dict.fromkeys(str(k) for k in person_keys))
    root = layout.identity
    if not keys or not root.exists():
        return _empty()
    before = f"{as_of:%Y-%m}"
    parts = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        months = [m for m in store.months_of(root, folder.name) if m < before]
        if not months:
            continue
        data = ds.dataset(folder, format="parquet", partitioning="hive")
        present = [c for c in _READ if c in data.schema.names]
        if "person_key" not in present:
            continue
        wanted = pc.field("known_month").isin(months) & pc.field("person_key").isin(keys)
        frame: pd.DataFrame = data.to_table(columns=[*present, "known_month"], filter=wanted).to_pandas()
        parts.append(frame.reindex(columns=[*_READ, "known_month"]).assign(_table=folder.name))
    if not parts:
        return _empty()
    rows = pd.concat(parts, ignore_index=True)
    rows["_named"] = rows["name"].notna()
    rows["known_month"] = rows["known_month"].astype(str)
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


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PEOPLE_COLUMNS})
