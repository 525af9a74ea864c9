"""The score stage's other lists of the factory's as-of date (tests/outreach/factory.py), written
into a home made by tests/outreach/hukou_home.py: made in the test, keys and codes only.

- recipient_checks: reverify households 1 and 0 (village A1, ranks 2 and 1), 10 (A2) and 20
  (B1, town B); phase-out household 2 (A1).
- entitlements: household 0 likely eligible and not receiving 医疗救助 and 临时救助; household 1
  likely eligible for 低保 but receiving it (not listed); household 3 not likely eligible (not
  listed); household 20 (town B) eligible and not receiving 低保.
- unlinked_list (only with ``unlinked=True``): a person in A1 and one in B1, whose names are in
  the identity table of a non-hukou source (``social_insurance``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest import store
from lowinc.home import HomeLayout
from tests.outreach.factory import COUNTY, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, household_key
from tests.outreach.hukou_home import id_number

AS_OF = "2024-06-01"
VILLAGE = {0: VILLAGE_A1, 1: VILLAGE_A1, 2: VILLAGE_A1, 3: VILLAGE_A1, 10: VILLAGE_A2, 20: VILLAGE_B1}
UNLINKED_A = "u-a1".ljust(32, "0")
UNLINKED_B = "u-b1".ljust(32, "0")
UNLINKED_ID_A = id_number("19900101", 41, True)
UNLINKED_ID_B = id_number("19910202", 42, False)


def _geo(numbers: list[int]) -> dict[str, list[str]]:
    villages = [VILLAGE[n] for n in numbers]
    return {
        "county_code": [COUNTY] * len(numbers),
        "town_code": [v[:9] for v in villages],
        "village_code": villages,
    }


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def write_lists(layout: HomeLayout, unlinked: bool = False) -> None:
    """The recipient checks and entitlements of AS_OF (and the unlinked list when asked)."""
    checks = [1, 0, 10, 20, 2]
    _write(
        pd.DataFrame(
            {
                "household_key": [household_key(n) for n in checks],
                "as_of": pd.Timestamp(AS_OF),
                **_geo(checks),
                "assistance_state": ["dibao", "dibao", "tekun", "dibao", "edge"],
                "kind": ["reverify", "reverify", "reverify", "reverify", "phase_out"],
                "score": [0.5, 0.9, 0.7, 0.8, 0.6],
                "rank_in_town": [2, 1, 3, 1, 1],
                "reasons_zh": [
                    "家庭可见收入 3,100 元/月",
                    "新登记车辆 1 辆；工商登记 1 户",
                    "核查理由丙",
                    "核查理由丁",
                    "渐退期剩 2 个月",
                ],
                "reasons_en": [
                    "visible income 3,100 yuan a month",
                    "a new car; a business",
                    "c",
                    "d",
                    "2 months left",
                ],
                "due_date": pd.to_datetime(
                    ["2024-06-20", "2024-06-14", "2024-06-21", "2024-06-22", "2024-07-01"]
                ),
            }
        ),
        layout.recipient_checks(AS_OF),
    )
    rights = [0, 0, 1, 3, 20]
    _write(
        pd.DataFrame(
            {
                "household_key": [household_key(n) for n in rights],
                **_geo(rights),
                "programme": ["medical_assistance", "temporary_aid", "dibao", "tekun", "dibao"],
                "likely_eligible": [True, True, True, False, True],
                "receiving": [False, False, True, False, False],
                "est_monthly_amount": [0.0, 0.0, 950.0, 0.0, 700.0],
                "est_one_off_amount": [12400.0, 3000.0, 0.0, 0.0, 0.0],
                "reason_zh": [
                    "近12个月医疗自付 2.6 万元",
                    "支出型困难",
                    "在保",
                    "不符合",
                    "收入低于低保标准",
                ],
            }
        ),
        layout.entitlements_file(AS_OF),
    )
    if unlinked:
        write_unlinked(layout)


def write_unlinked(layout: HomeLayout) -> None:
    """The unlinked list of AS_OF (the columns of the score stage) and its people's identity."""
    villages = [VILLAGE_A1, VILLAGE_B1]
    _write(
        pd.DataFrame(
            {
                "person_key": [UNLINKED_A, UNLINKED_B],
                "as_of": pd.Timestamp(AS_OF),
                "county_code": [COUNTY, COUNTY],
                "town_code": [v[:9] for v in villages],
                "village_code": villages,
                "sources": ["employment_registrations,disability_certificates", "medical_settlements"],
                "score": [0.8, 0.7],
                "rank_in_town": [1, 1],
                "reasons_zh": ["在本地参保 14 个月；无本地户籍", "居住证 2 年"],
                "reasons_en": ["insured here 14 months; no local hukou", "residence permit 2 years"],
                "due_date": pd.to_datetime(["2024-06-28", "2024-06-28"]),
            }
        ),
        layout.unlinked_list(AS_OF),
    )
    identity = pd.DataFrame(
        {
            "person_key": [UNLINKED_A, UNLINKED_B, UNLINKED_A],
            "id_no": [UNLINKED_ID_A, UNLINKED_ID_B, UNLINKED_ID_A],
            "name": ["外来甲旧名", "外来乙", "外来甲"],
            "table": "social_insurance",
        }
    )
    store.write_partition(identity.iloc[:2], layout.identity, "social_insurance", "2024-03")
    store.write_partition(identity.iloc[2:], layout.identity, "social_insurance", "2024-05")
    # a later name known only in the as-of month itself: not known before it
    late = identity.iloc[2:].assign(name="外来甲六月")
    store.write_partition(late, layout.identity, "social_insurance", "2024-06")
