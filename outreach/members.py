"""The members of households at an as-of date, with their names and masked IDs, and who stands
in as a household's contact.

The one place in outreach that reads the protected identity table (``<home>/secure/identity``)
for households (:mod:`outreach.people` names people without a local household): plain ID
numbers are masked here (:func:`outreach.privacy.mask_id`) and never leave this module.
The membership is ingest's (``canonical/households``, the month before the as-of date), so a
head who died, moved out of the hukou or was never delivered is simply absent;
:func:`choose_contacts` then names the member who stands in (户主, else 配偶, else the oldest
adult, else the oldest member), marked ``stand_in``.

Address and 组 (``address``, ``group_name``) are optional columns of the hukou sources: a
source that delivers them (as ``identity_of`` columns beside the ID) has them here, else
they are None.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ingest import store
from ingest.tables import HOUSEHOLDS_TABLE, HUKOU_TABLES
from lowinc.home import HomeLayout
from outreach.contacts import CONTACT_COLUMNS
from outreach.privacy import mask_ids

HEAD = "head"
SPOUSE = "spouse"
ADULT_AGE = 18
OPTIONAL_IDENTITY = ("address", "group_name")  # delivered by some hukou sources only
MEMBER_COLUMNS = [
    "household_key",
    "person_key",
    "relation",
    "sex",
    "birth_date",
    "age",
    "name",
    "id_masked",
    "address",
    "group_name",
]

Filter = list[tuple[str, str, object]] | None


def household_members(
    layout: HomeLayout, as_of: pd.Timestamp, household_keys: Sequence[str] | None = None
) -> pd.DataFrame:
    """Everyone in a household at ``as_of`` (the membership known before its month), with age
    at ``as_of``, sex, name, masked ID and the optional address and 组; only the given
    households when ``household_keys`` is given (read with parquet filters)."""
    return with_identity(layout, membership(layout, as_of, household_keys), as_of)


def membership(
    layout: HomeLayout, as_of: pd.Timestamp, household_keys: Sequence[str] | None = None
) -> pd.DataFrame:
    """(household_key, person_key, relation) of the membership known before the as-of month."""
    month = f"{as_of:%Y-%m}"
    known = [m for m in store.months_of(layout.canonical, HOUSEHOLDS_TABLE) if m < month]
    columns = ["household_key", "person_key", "relation"]
    if not known:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    keys = None if household_keys is None else list(dict.fromkeys(household_keys))
    by_household: Filter = None if keys is None else [("household_key", "in", keys)]
    path = store.partition_dir(layout.canonical, HOUSEHOLDS_TABLE, known[-1]) / store.PART
    return _read(path, columns, by_household)


def with_identity(layout: HomeLayout, members: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The membership rows with name, masked ID, birth date, sex, age, address and 组."""
    if members.empty:
        return _empty_members()
    by_person: Filter = [("person_key", "in", members["person_key"].unique().tolist())]
    columns = ["person_key", "id_no", "name", *OPTIONAL_IDENTITY]
    identity = _latest(_read_months(layout.identity, f"{as_of:%Y-%m}", columns, by_person))
    out = members.merge(identity, on="person_key", how="left")
    # birth date and sex as the ID number states them (GB 11643; ingest checked that the
    # register's own columns agree), so the register itself need not be read again
    ids = out["id_no"].astype("string")
    birth = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
    out["birth_date"] = birth
    sex_digit = pd.to_numeric(ids.str[16:17], errors="coerce")
    out["sex"] = sex_digit.map(lambda d: None if pd.isna(d) else ("M" if int(d) % 2 else "F"))
    out["age"] = _age(birth, as_of)
    out["id_masked"] = mask_ids(out["id_no"])
    out.loc[out["id_no"].isna(), "id_masked"] = None
    return out.reindex(columns=MEMBER_COLUMNS).astype({"age": "float64"})


def choose_contacts(members: pd.DataFrame) -> pd.DataFrame:
    """One contact per household: the head, else the member who stands in (配偶, then the
    oldest adult, then the oldest member); a member with a name or ID comes before one
    without. ``stand_in`` is True when the contact is not the head."""
    if members.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in CONTACT_COLUMNS})
    relation = members["relation"].to_numpy()
    adult = members["age"].fillna(-1).to_numpy() >= ADULT_AGE
    rank = np.select([relation == HEAD, relation == SPOUSE, adult], [0, 1, 2], default=3)
    unnamed = (members["name"].isna() & members["id_masked"].isna()).to_numpy()
    # oldest first: NaT (unknown birth) sorts last
    birth = members["birth_date"].to_numpy(dtype="datetime64[us]").astype("int64").astype("float64")
    birth[members["birth_date"].isna().to_numpy()] = np.inf
    order = np.lexsort((birth, rank, unnamed, members["household_key"].to_numpy()))
    ranked = members.iloc[order]
    chosen = ranked.drop_duplicates("household_key", keep="first")

    def text(column: str) -> list[str | None]:
        return [None if pd.isna(v) else str(v) for v in chosen[column]]

    return pd.DataFrame(
        {
            "household_key": chosen["household_key"].to_numpy(),
            "head_name": text("name"),
            "head_id_masked": text("id_masked"),
            "address": text("address"),
            "group_name": text("group_name"),
            "stand_in": (chosen["relation"] != HEAD).to_numpy(),
        }
    )


def _age(birth: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    years = as_of.year - birth.dt.year
    before = (birth.dt.month > as_of.month) | ((birth.dt.month == as_of.month) & (birth.dt.day > as_of.day))
    return (years - before.astype("float64")).astype("float64")


def _read_months(base: Path, before: str, columns: list[str], filters: Filter) -> pd.DataFrame:
    """The hukou tables' rows known before the month ``before`` (one dataset scan per table,
    filtered), with their month and whether they are a change (which comes after the base)."""
    parts = []
    for table in HUKOU_TABLES:
        root = base / table
        months = [m for m in store.months_of(base, table) if m < before]
        if not months:
            continue
        data = ds.dataset(root, format="parquet", partitioning="hive")
        wanted = pc.field("known_month").isin(months)
        for name, op, value in filters or []:
            assert op == "in"
            wanted = wanted & pc.field(name).isin(value)
        present = [c for c in columns if c in data.schema.names]
        frame: pd.DataFrame = data.to_table(columns=[*present, "known_month"], filter=wanted).to_pandas()
        frame = frame.reindex(columns=[*columns, "known_month"]).rename(columns={"known_month": "_month"})
        parts.append(frame.assign(_change=table != HUKOU_TABLES[0]))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)


def _latest(rows: pd.DataFrame) -> pd.DataFrame:
    """Each person's latest row (a change after the base, a later delivery after an earlier)."""
    if "_month" not in rows.columns:
        return rows
    rows = rows.sort_values(["_month", "_change"], kind="stable")
    return rows.drop_duplicates("person_key", keep="last").drop(columns=["_month", "_change"])


def _read(path: Path, columns: list[str], filters: Filter) -> pd.DataFrame:
    """The columns of one parquet file that it has (the others all-missing), filtered."""
    present = set(pq.read_schema(path).names)
    table: pa.Table = pq.read_table(path, columns=[c for c in columns if c in present], filters=filters)
    frame: pd.DataFrame = table.to_pandas()
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(None, index=frame.index, dtype="object")
    return frame[columns]


def _empty_members() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in MEMBER_COLUMNS})
    return frame.astype({"age": "float64", "birth_date": "datetime64[us]"})
