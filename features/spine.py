"""The household spine at T: every household registered at the end of the month before T,
its members and where it lives. Every other feature is an array aligned with it.

People are found by their position among the members (a person code, -1 for someone who
is not a member at T); :func:`with_person_codes` looks a table's keys up once, so each
feature module works on integer arrays rather than hashing 32-character keys again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PERSON_CODE = "_person"  # column a table gains from with_person_codes


@dataclass(frozen=True)
class Spine:
    """Households (row position = household code) and their members at T."""

    as_of: pd.Timestamp
    households: pd.DataFrame  # household_key, village_code, town_code, county_code, urban
    members: pd.DataFrame  # person_key, hh (household position), relation, birth_date, age
    person_index: pd.Index  # person_key of each member row, for lookups (object dtype)
    household_index: pd.Index  # household_key of each household row (object dtype)

    @property
    def n(self) -> int:
        return len(self.households)

    def person_codes(self, rows: pd.DataFrame | pd.Series) -> np.ndarray:
        """Member position of each row's person (-1: not a member at T); a frame's
        precomputed codes when it has them."""
        if isinstance(rows, pd.DataFrame):
            if PERSON_CODE in rows.columns:
                codes: np.ndarray = rows[PERSON_CODE].to_numpy()
                return codes
            rows = rows["person_key"]
        if len(rows) == 0:
            return np.empty(0, dtype="int64")
        found: np.ndarray = self.person_index.get_indexer(key_array(rows))  # type: ignore[arg-type]  # pandas-stubs: get_indexer takes any array-like target
        return found

    def household_of(self, rows: pd.DataFrame | pd.Series) -> np.ndarray:
        """Household position of each row's person at T; -1 for someone not a member."""
        pos = self.person_codes(rows)
        hh: np.ndarray = self.members["hh"].to_numpy()
        return np.where(pos >= 0, hh[np.maximum(pos, 0)], -1) if len(pos) else pos

    def position_of(self, household_keys: pd.Series) -> np.ndarray:
        """Position of each household key; -1 for a household that does not exist at T."""
        if len(household_keys) == 0:
            return np.empty(0, dtype="int64")
        found: np.ndarray = self.household_index.get_indexer(key_array(household_keys))  # type: ignore[arg-type]  # pandas-stubs: get_indexer takes any array-like target
        return found

    def total(self, hh: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` (or a count) per household, over rows with a household (>= 0)."""
        keep = hh >= 0
        w = None if weights is None else np.asarray(weights, dtype="float64")[keep]
        return np.bincount(hh[keep], weights=w, minlength=self.n)

    def any(self, hh: np.ndarray) -> np.ndarray:
        return self.total(hh) > 0

    def members_among(self, rows: pd.DataFrame | pd.Series) -> np.ndarray:
        """How many distinct members of each household the rows name."""
        pos = self.person_codes(rows)
        found = np.unique(pos[pos >= 0])
        return np.bincount(self.members["hh"].to_numpy()[found], minlength=self.n).astype("int64")

    def with_person_codes(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with its person codes attached (looked up once)."""
        if frame.empty or "person_key" not in frame.columns or PERSON_CODE in frame.columns:
            return frame
        return frame.assign(**{PERSON_CODE: self.person_codes(frame["person_key"])})


def key_array(keys: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Keys as a numpy object array: an object Index builds its hash table once and keeps
    it, where an Arrow-backed one converts itself to objects again on every lookup."""
    return np.asarray(keys, dtype=object)


def key_index(keys: pd.Series | pd.Index | np.ndarray) -> pd.Index:
    index: pd.Index = pd.Index(key_array(keys), dtype=object)
    return index


def latest_membership(households: pd.DataFrame) -> pd.DataFrame:
    """Membership as ingest linked it at the end of the last month delivered (before T)."""
    known = households
    if known.empty:
        return known
    last = known["known_month"].max()
    latest: pd.DataFrame = known[known["known_month"].to_numpy() == last]
    return latest


def birth_dates(persons: pd.DataFrame, person_index: pd.Index) -> np.ndarray:
    """Birth date of each member from the hukou rows (known before T; NaT when none); a
    later row (a change after the base) overrides an earlier one."""
    out = np.full(len(person_index), np.datetime64("NaT"), dtype="datetime64[us]")
    known = persons
    if known.empty:
        return out
    base = (
        known["change_type"].isna().to_numpy()
        if "change_type" in known.columns
        else np.ones(len(known), bool)
    )
    later = known[~base].sort_values(["event_date", "known_month"], kind="stable")
    for rows in (known[base], later):
        pos = person_index.get_indexer(key_array(rows["person_key"]))  # type: ignore[arg-type]  # pandas-stubs: get_indexer takes any array-like target
        keep = pos >= 0
        out[pos[keep]] = rows["birth_date"].to_numpy(dtype="datetime64[us]")[keep]
    return out


def age_at(birth: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
    """Completed years of age on T (NaN where the birth date is unknown)."""
    b = pd.DatetimeIndex(birth)
    years: np.ndarray = as_of.year - b.year.to_numpy(dtype="float64")
    before_birthday: np.ndarray = (b.month.to_numpy() > as_of.month) | (
        (b.month.to_numpy() == as_of.month) & (b.day.to_numpy() > as_of.day)
    )
    age: np.ndarray = years - before_birthday
    return age


def geography(village_codes: pd.Series, divisions: pd.DataFrame) -> pd.DataFrame:
    """Town and county codes (prefixes of the 12-digit code) and urban (a 社区, not a 村)."""
    codes = village_codes.astype("str").reset_index(drop=True)
    names = divisions.set_index("village_code")["village_name"]
    village_name = codes.map(names)
    return pd.DataFrame(
        {
            "village_code": codes,
            "town_code": codes.str.slice(0, 9),
            "county_code": codes.str.slice(0, 6),
            "urban": village_name.fillna("").str.endswith("社区").to_numpy(dtype=bool),
        }
    )


def label_spine(households: pd.DataFrame, household_keys: pd.Series, as_of: pd.Timestamp) -> Spine | None:
    """The spine of a written snapshot's households, in its row order, for its labels only:
    members and their households from the membership known before T, no ages or geography
    (a label reads neither). None when that membership does not give exactly these
    households (one is missing, one is new, a key repeats)."""
    m = latest_membership(households)
    index = key_index(household_keys)
    if not index.is_unique:
        return None
    hh = index.get_indexer(key_array(m["household_key"])) if len(m) else np.empty(0, "int64")  # type: ignore[arg-type]  # pandas-stubs: get_indexer takes any array-like target
    if (hh < 0).any() or len(np.unique(hh)) != len(index):
        return None
    members = pd.DataFrame({"person_key": m["person_key"].astype("str").to_numpy(), "hh": hh})
    return Spine(
        as_of=as_of,
        households=pd.DataFrame({"household_key": index.to_numpy()}),
        members=members,
        person_index=key_index(members["person_key"]),
        household_index=index,
    )


def build_spine(
    households: pd.DataFrame, persons: pd.DataFrame, divisions: pd.DataFrame, as_of: pd.Timestamp
) -> Spine:
    """Households at T with members, ages and geography, from rows known before T (the
    snapshot builder filters them).

    ``households`` is ingest's membership table (every known month, with ``known_month``);
    ``persons`` the hukou base and change rows (person_key, birth_date, change_type,
    known_month, event_date).
    """
    m = latest_membership(households)
    m = m[["person_key", "household_key", "division_code", "relation"]].astype("str")
    # households in key order; within one, the head's row first, so a household's place is
    # its head's (any member's when it has none)
    hh_code, hh_unique = pd.factorize(m["household_key"], sort=True)
    not_head = m["relation"].to_numpy() != "head"
    m = m.iloc[np.lexsort((not_head, hh_code))].reset_index(drop=True)
    hh = np.sort(hh_code)
    first = m[np.r_[True, hh[1:] != hh[:-1]] if len(hh) else np.zeros(0, bool)]
    hh_keys = key_index(hh_unique)
    geo = geography(first["division_code"], divisions)
    table = pd.concat([pd.DataFrame({"household_key": hh_keys.to_numpy()}), geo], axis=1)
    person_keys = key_index(m["person_key"])
    birth = birth_dates(persons, person_keys)
    members = pd.DataFrame(
        {
            "person_key": m["person_key"],
            "hh": hh,
            "relation": m["relation"].to_numpy(),
            "birth_date": birth,
            "age": age_at(birth, as_of),
        }
    )
    return Spine(
        as_of=as_of,
        households=table,
        members=members,
        person_index=person_keys,
        household_index=hh_keys,
    )
