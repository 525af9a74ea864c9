"""Tiny canonical tables made in the test: two households in one 湖州 village.

h1: p1 head (45), p2 spouse (43), p3 child (10); h2: p4 head (70) living alone.
Membership is delivered every month from 2022-01 to 2023-12; every other table is empty
unless a test gives rows (dicts with known_month, event_date and the table's columns, by
the table's name). Frames take their columns and types from ingest/tables.py.
"""

from __future__ import annotations

import pandas as pd

from features.config import FeaturesConfig
from features.policy import CityPolicyLines, PolicyLinesConfig
from features.snapshot import Canonical, build_snapshot
from ingest.tables import BY_NAME, TABLES

VILLAGE = "330502001001"
COUNTY = "330502"
MONTHS = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]
DIVISIONS = pd.DataFrame(
    {
        "village_code": [VILLAGE],
        "village_name": ["红旗社区"],
        "town_code": [VILLAGE[:9]],
        "county_code": [COUNTY],
        "city_name": ["湖州市"],
    }
)
THRESHOLDS = PolicyLinesConfig(
    cities={
        "湖州市": CityPolicyLines(
            dibao_annual={2022: 12000, 2023: 12720},
            disposable_income_annual={2021: 59000, 2022: 62000, 2023: 65500},
        )
    }
)
CONFIG = FeaturesConfig()
PEOPLE = [
    ("p1", "h1", "head", "1978-03-01"),
    ("p2", "h1", "spouse", "1980-03-01"),
    ("p3", "h1", "son", "2013-03-01"),
    ("p4", "h2", "head", "1953-03-01"),
]


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of a canonical table as the reader returns it: ``known_month`` and the
    columns ingest/tables.py declares, typed as declared (extra keys of a row are dropped)."""
    declared = BY_NAME[table]
    data = pd.DataFrame(rows, columns=[declared.known, *declared.read_columns])
    return data.astype({declared.known: "str"} | declared.dtypes)


def membership(people: list[tuple[str, str, str, str]] = PEOPLE, months: list[str] = MONTHS) -> pd.DataFrame:
    rows = [
        {"known_month": m, "person_key": p, "household_key": h, "division_code": VILLAGE, "relation": r}
        for m in months
        for p, h, r, _ in people
    ]
    return frame("households", rows)


def hukou_base(people: list[tuple[str, str, str, str]] = PEOPLE) -> pd.DataFrame:
    rows = [
        {
            "known_month": "2022-01",
            "event_date": "2022-01-01",
            "person_key": p,
            "household_key": h,
            "birth_date": b,
        }
        for p, h, _, b in people
    ]
    return frame("hukou_base", rows)


def tables(**rows: list[dict]) -> Canonical:
    """Canonical tables with the default households; keyword: table name -> rows."""
    unknown = set(rows) - {t.name for t in TABLES}
    if unknown:
        raise KeyError(f"not canonical tables: {sorted(unknown)}")
    given = {t.name: frame(t.name, rows.get(t.name, [])) for t in TABLES if t.grain != "household"}
    return Canonical(
        households=membership(),
        hukou_base=hukou_base(),
        hukou_changes=frame("hukou_changes", rows.get("hukou_changes", [])),
        delivered_through=MONTHS[-1],
        **given,
    )


def snapshot(data: Canonical, as_of: str, visits: pd.DataFrame | None = None) -> pd.DataFrame:
    """The snapshot at ``as_of``, indexed by household key."""
    return build_snapshot(data, pd.Timestamp(as_of), CONFIG, THRESHOLDS, DIVISIONS, visits).set_index(
        "household_key"
    )
