"""A tiny home with ingest's canonical and identity partitions for a few households of the
outreach factory (tests/outreach/factory.py), written with ingest's own store: made in the test.

Household 0 (village A1): the head died; the spouse (severe disability) and an adult son
(chronic illness, contributions, medical costs) remain: the spouse stands in.
Household 1: the head is there (the contact). Household 2: head and spouse gone; an adult
daughter and a grandchild: the daughter stands in. Household 3: only two children left.
Household 10 (village A2): the head is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ingest import store
from lowinc.home import HomeLayout
from lowinc.idno import check_char
from tests.outreach.factory import VILLAGE_A1, VILLAGE_A2, household_key

MONTH = "2024-05"  # the membership known before the factory's as-of 2024-06-01


@dataclass(frozen=True)
class Person:
    n: int  # household number
    key: str
    relation: str
    id_no: str
    name: str


def id_number(birth: str, seq: int, male: bool) -> str:
    """A GB 11643 ID of county 330502 with a right check character."""
    first17 = f"330502{birth}{seq % 100:02d}{1 if male else 2}"
    return first17 + check_char(first17)


def people() -> list[Person]:
    rows = [
        (0, "head", "19500101", True, "王老大"),  # died: in the identity table, not a member
        (0, "spouse", "19520202", False, "李桂英"),
        (0, "son", "19800303", True, "王建国"),
        (1, "head", "19700404", True, "赵一"),
        (1, "spouse", "19720505", False, "钱二"),
        (2, "daughter", "19850606", False, "孙三"),
        (2, "grandchild", "20150707", True, "孙小四"),
        (3, "son", "20100808", True, "周五"),
        (3, "daughter", "20120909", False, "周六"),
        (10, "head", "19601010", True, "吴七"),
    ]
    return [
        Person(n, f"p{n:02d}{i:02d}".ljust(32, "0"), relation, id_number(birth, i, male), name)
        for i, (n, relation, birth, male, name) in enumerate(rows)
    ]


GONE = {"p0000".ljust(32, "0")}  # household 0's head died


def write_home(home: Path, extra_identity: dict[str, str] | None = None) -> HomeLayout:
    """Membership of MONTH, the hukou identity rows, and a few department rows of household 0."""
    layout = HomeLayout(home)
    everyone = people()
    members = [p for p in everyone if p.key not in GONE]
    village = {0: VILLAGE_A1, 1: VILLAGE_A1, 2: VILLAGE_A1, 3: VILLAGE_A1, 10: VILLAGE_A2}
    membership = pd.DataFrame(
        {
            "person_key": [p.key for p in members],
            "household_key": [household_key(p.n) for p in members],
            "division_code": [village[p.n] for p in members],
            "relation": [p.relation for p in members],
        }
    )
    store.write_partition(membership, layout.canonical, "households", MONTH)
    identity = pd.DataFrame(
        {
            "person_key": [p.key for p in everyone],
            "id_no": [p.id_no for p in everyone],
            "name": [p.name for p in everyone],
        }
    )
    for column, value in (extra_identity or {}).items():
        identity[column] = value
    store.write_partition(identity.assign(table="hukou_base"), layout.identity, "hukou_base", "2022-01")
    son, spouse = everyone[2].key, everyone[1].key
    store.write_partition(
        pd.DataFrame(
            {
                "event_date": pd.to_datetime(["2024-03-15", "2024-04-20"]),
                "person_key": [son, son],
                "visit_type": ["chronic_outpatient", "inpatient"],
                "copay": [1000.0, 3000.0],
                "self_pay": [500.0, 2500.0],
            }
        ),
        layout.canonical,
        "medical_settlements",
        "2024-04",
    )
    months = pd.period_range("2023-07", "2024-05", freq="M")
    for month in months:
        store.write_partition(
            pd.DataFrame(
                {
                    "event_date": [month.end_time.normalize()],
                    "person_key": [son],
                    "scheme": ["enterprise"],
                    "contribution_base": [4000.0],
                    "payment_status": ["due"],
                }
            ),
            layout.canonical,
            "pension_contributions",
            str(month),
        )
    store.write_partition(
        pd.DataFrame(
            {
                "event_date": pd.to_datetime(["2023-10-10"]),
                "person_key": [spouse],
                "disability_grade": ["2"],
                "change_type": ["new"],
            }
        ),
        layout.canonical,
        "disability_certificates",
        "2023-10",
    )
    store.write_partition(
        pd.DataFrame(
            {
                "event_date": pd.to_datetime(["2024-05-31", "2024-05-31"]),
                "person_key": [spouse, son],
                "case_key": ["c0", "c0"],
                "monthly_benefit": [800.0, 800.0],
                "state": ["active", "active"],
            }
        ),
        layout.canonical,
        "assistance_roster",
        "2024-05",
    )
    # a row known in the as-of month itself: not known before it, never shown
    store.write_partition(
        pd.DataFrame(
            {"event_date": pd.to_datetime(["2024-06-02"]), "person_key": [son], "amount": [99999.0]}
        ),
        layout.canonical,
        "temporary_assistance",
        "2024-06",
    )
    scores = pd.DataFrame(
        {
            "household_key": [household_key(0), household_key(1)],
            "as_of": pd.to_datetime(["2024-05-01", "2024-05-01"]),
            "risk": [0.41, 0.05],
            "tier": ["orange", "blue"],
            "reasons_zh": ["近6个月医疗自付 7,000 元", ""],
            "reasons_en": ["out-of-pocket medical cost 7,000 yuan in 6 months", ""],
        }
    )
    path = layout.scores_file("2024-05-01")
    path.parent.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(path)
    return layout
