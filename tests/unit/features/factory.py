"""Tiny canonical tables made in the test: two households in one 湖州 village.

h1: p1 head (45), p2 spouse (43), p3 child (10); h2: p4 head (70) living alone.
Membership is delivered every month from 2022-01 to 2023-12; every other table is empty
unless a test gives rows (dicts with known_month, event_date and the table's columns).
"""

from __future__ import annotations

import pandas as pd

from features.config import FeaturesConfig
from features.policy import CityPolicyLines, PolicyLinesConfig
from features.snapshot import Canonical, build_snapshot

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
COLUMNS = {
    "contributions": ["person_key", "scheme", "contribution_base", "payment_status"],
    "pensions": ["person_key", "amount"],
    "registrations": ["person_key", "registration_type", "unemployment_benefit"],
    "roster": [
        "case_key",
        "person_key",
        "category",
        "monthly_benefit",
        "income_per_capita",
        "admitted_date",
        "state",
    ],
    "temporary_aid": ["person_key", "amount", "aid_type"],
    "settlements": [
        "person_key",
        "visit_type",
        "critical_illness_paid",
        "assistance_paid",
        "copay",
        "self_pay",
    ],
    "certificates": ["person_key", "disability_grade", "change_type", "living_subsidy", "care_subsidy"],
    "appraisals": ["house_key", "person_key", "safety_grade", "renovation_status"],
    "properties": ["person_key", "direction", "reason"],
}
DATES = ("event_date", "admitted_date", "birth_date")


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """A canonical frame: known_month, event_date, then the columns, dates as datetime64[us]."""
    cols = ["known_month", "event_date", *columns]
    data = pd.DataFrame(rows, columns=cols)
    for c in DATES:
        if c in data.columns:
            data[c] = pd.to_datetime(data[c]).astype("datetime64[us]")
    for c in data.columns:
        if len(data) and data[c].dtype == object and data[c].map(type).eq(str).all():
            data[c] = data[c].astype("str")
    return data


def membership(people: list[tuple[str, str, str, str]] = PEOPLE, months: list[str] = MONTHS) -> pd.DataFrame:
    rows = [
        {"known_month": m, "person_key": p, "household_key": h, "division_code": VILLAGE, "relation": r}
        for m in months
        for p, h, r, _ in people
    ]
    return pd.DataFrame(rows).astype("str")


def hukou(
    people: list[tuple[str, str, str, str]] = PEOPLE, changes: list[dict] | None = None
) -> pd.DataFrame:
    base = [
        {
            "known_month": "2022-01",
            "event_date": "2022-01-01",
            "person_key": p,
            "household_key": h,
            "birth_date": b,
            "change_type": None,
        }
        for p, h, _, b in people
    ]
    return frame(base + (changes or []), ["person_key", "household_key", "birth_date", "change_type"])


def tables(**rows: list[dict]) -> Canonical:
    """Canonical tables with the default households; keyword: table name -> rows."""
    extra = {name: frame(rows.get(name, []), cols) for name, cols in COLUMNS.items()}
    return Canonical(
        households=membership(),
        hukou=hukou(changes=rows.get("hukou_changes")),
        delivered_through=MONTHS[-1],
        **extra,
    )


def snapshot(data: Canonical, as_of: str, visits: pd.DataFrame | None = None) -> pd.DataFrame:
    """The snapshot at ``as_of``, indexed by household key."""
    return build_snapshot(data, pd.Timestamp(as_of), CONFIG, THRESHOLDS, DIVISIONS, visits).set_index(
        "household_key"
    )
