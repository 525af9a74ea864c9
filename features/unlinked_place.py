"""Where each person living in the area without local hukou lives at T (issue 16, item 3).

No hukou household places them, so their own department rows do: the village of the latest
区划代码 (``division_code``) on a row of theirs delivered before T (the point-in-time rule of
features.timeline) in a table that carries one (the assistance roster, temporary aid,
employment registrations, disability certificates, house safety). A row names its people
through the key columns ingest linked (``person_key``, ``head_person_key`` ...), so a head
named on a roster row is placed by it as a member is. "Latest" is by delivery month, then
event date, among the rows whose village code the divisions reference knows (a code it does not
know places no one; its county, when known, is kept for the run's count of unplaced people).

Pure: frames in, a frame out; the pipeline reads the rows (pipelines/score/unlinked.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.spine import geography, key_index
from features.timeline import known_before

OWN_ROW_COLUMNS = ("person_key", "known_month", "event_date", "division_code", "table")
PLACE_COLUMNS = ("person_key", "village_code", "town_code", "county_code", "placed")


def own_rows(rows: pd.DataFrame, key_columns: Sequence[str], table: str) -> pd.DataFrame:
    """One row per (row, person it names) of one table (OWN_ROW_COLUMNS): a roster row naming
    a head and a member counts for both. Rows without a division code are left out."""
    parts = []
    for col in key_columns:
        if col not in rows.columns or rows.empty:
            continue
        part = rows[[col, "known_month", "event_date", "division_code"]].rename(columns={col: "person_key"})
        parts.append(part[part["person_key"].notna().to_numpy() & part["division_code"].notna().to_numpy()])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in OWN_ROW_COLUMNS})
    out = pd.concat(parts, ignore_index=True).assign(table=table)
    return out[list(OWN_ROW_COLUMNS)]


def place_people(
    people: pd.Index, rows: pd.DataFrame, as_of: pd.Timestamp, divisions: pd.DataFrame
) -> pd.DataFrame:
    """One row per person of ``people``, in its order (PLACE_COLUMNS): the village, town and
    county of their latest placeable row known before T, ``placed`` False (and the codes None,
    but the county when the reference knows it) for someone no such row places.

    ``rows``: own rows (OWN_ROW_COLUMNS) of the tables that carry a division code."""
    n = len(people)
    village = np.full(n, None, dtype=object)
    county = np.full(n, None, dtype=object)
    known = known_before(rows, as_of) if len(rows) else rows
    if len(known):
        known = known.assign(
            person_key=known["person_key"].astype("str"), division_code=known["division_code"].astype("str")
        )
        known = known[known["person_key"].isin(people)].sort_values(
            ["known_month", "event_date"], kind="stable", na_position="first"
        )
        codes = known["division_code"]
        in_reference = codes.isin(divisions["village_code"]).to_numpy()
        county_known = codes.str.slice(0, 6).isin(divisions["county_code"]).to_numpy()
        # the county first (from any row), then the village of the latest placeable row over it
        for mask, target, width in ((county_known, county, 6), (in_reference, village, 12)):
            latest = known[mask].drop_duplicates("person_key", keep="last")
            target[people.get_indexer(key_index(latest["person_key"]))] = (
                latest["division_code"].str.slice(0, width).to_numpy()
            )
    placed = pd.notna(village)
    county[placed] = pd.Series(village[placed], dtype="str").str.slice(0, 6).to_numpy()
    geo = geography(pd.Series(village[placed], dtype="str"), divisions)
    town = np.full(n, None, dtype=object)
    town[placed] = geo["town_code"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "person_key": people.to_numpy(dtype=object),
            "village_code": village,
            "town_code": town,
            "county_code": county,
            "placed": placed,
        }
    )


def unplaced_counts(places: pd.DataFrame) -> dict[str, int]:
    """People no row places, per county where one is known, else under "unplaced"."""
    left = places[~places["placed"].to_numpy(bool)]
    counts = left["county_code"].fillna("unplaced").value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}
