"""Signals and ranking of people without local hukou (features/unlinked.py) at T = 2023-06-01."""

from __future__ import annotations

import pandas as pd

from features.unlinked import UNLINKED_COLUMNS, UnlinkedRules, UnlinkedSources, unlinked_signals
from tests.unit.features.factory import frame

T = pd.Timestamp("2023-06-01")
LOCAL_INCOME = 62_000.0  # 40% of it: 24,800 a year out of pocket is catastrophic


def listed(person: str, known: str, table: str = "medical_settlements") -> dict:
    return {"known_month": known, "source_file": "f", "person_key": person, "rows": 1, "table": table}


def stay(person: str, known: str, copay: float, event: str | None = None, visit: str = "inpatient") -> dict:
    return {
        "known_month": known,
        "event_date": event or f"{known}-01",
        "person_key": person,
        "visit_type": visit,
        "critical_illness_paid": 0.0,
        "assistance_paid": 0.0,
        "copay": copay,
        "self_pay": 0.0,
    }


UNLINKED = pd.DataFrame(
    [
        listed("u1", "2023-03"),
        listed("u1", "2023-04", "disability_certificates"),
        listed("u2", "2023-02", "disability_certificates"),
        listed("u3", "2023-05", "employment_registrations"),
        listed("u7", "2023-05", "pension_contributions"),
        listed("u4", "2023-06"),  # listed only in T's month
        listed("u5", "2022-03"),  # listed more than 12 months before T
        listed("u6", "2023-01"),  # since registered: a member at T
    ]
)
SOURCES = UnlinkedSources(
    medical_settlements=frame(
        "medical_settlements",
        [
            stay("u1", "2023-03", 30_000.0, "2023-02-10"),
            stay("u1", "2023-06", 100_000.0, "2023-04-10"),  # settled in T's month: not known at T
            stay("u4", "2023-05", 50_000.0),
            stay("u6", "2023-05", 50_000.0),
        ],
    ),
    disability_certificates=frame(
        "disability_certificates",
        [
            {
                "known_month": "2023-02",
                "event_date": "2023-02-01",
                "person_key": "u2",
                "disability_grade": "1",
                "change_type": "new",
                "living_subsidy": "N",
                "care_subsidy": "N",
            }
        ],
    ),
    employment_registrations=frame(
        "employment_registrations",
        [
            {
                "known_month": "2023-05",
                "event_date": "2023-04-10",
                "person_key": "u3",
                "registration_type": "unemployed",
                "unemployment_benefit": 1500.0,
            }
        ],
    ),
    pension_contributions=frame(
        "pension_contributions",
        [
            {
                "known_month": "2023-05",
                "event_date": "2023-04-01",
                "person_key": "u7",
                "scheme": "enterprise",
                "contribution_base": 4000.0,
                "payment_status": "interrupted",
            }
        ],
    ),
)


def test_people_ranked_by_the_documented_points():
    out = unlinked_signals(UNLINKED, T, SOURCES, LOCAL_INCOME, members=pd.Series(["u6"]))
    assert tuple(out.columns) == UNLINKED_COLUMNS
    assert out["person_key"].tolist() == ["u1", "u2", "u3", "u7"]  # u4, u5, u6 are not unlinked at T
    by = out.set_index("person_key")
    assert by.loc["u1", "oop_medical_12m"] == 30_000.0  # the late settlement does not count
    assert (
        by.loc["u1", "score"] == 3.0
        and by.loc["u1", "sources"] == "disability_certificates,medical_settlements"
    )
    assert by.loc["u2", "severe_disability"] and by.loc["u2", "disability_no_care_subsidy"]
    assert by.loc["u2", "score"] == 3.0  # ties with u1; u1's larger cost ranks it first
    assert by.loc["u3", "newly_unemployed_3m"] and by.loc["u3", "unemployed"]
    assert by.loc["u7", "contribution_interrupted"] and not by.loc["u7", "unemployed"]
    assert by.loc["u3", "score"] == by.loc["u7", "score"] == 2.0  # job loss counts once
    assert out["rank"].tolist() == [1, 2, 3, 4]


def test_a_cost_below_the_catastrophic_share_scores_nothing_and_rules_are_configurable():
    out = unlinked_signals(UNLINKED, T, SOURCES, local_income=100_000.0, members=pd.Series(["u6"]))
    assert out.set_index("person_key").loc["u1", "score"] == 0.0  # 30,000 < 40% of 100,000
    heavy = unlinked_signals(UNLINKED, T, SOURCES, LOCAL_INCOME, UnlinkedRules(serious_stays=1, job_loss=5.0))
    by = heavy.set_index("person_key")
    assert by.loc["u1", "score"] == 5.0  # catastrophic 3 + one stay now heavy care 2
    # without the members at T u6 counts too (3 + 2); ties at 5 go by out-of-pocket cost, then key
    assert heavy["person_key"].tolist() == ["u6", "u1", "u3", "u7", "u2"]


def test_nothing_known_gives_an_empty_frame_with_the_columns():
    empty = UnlinkedSources(*(SOURCES.medical_settlements.iloc[:0] for _ in range(4)))
    out = unlinked_signals(UNLINKED.iloc[:0], T, empty, LOCAL_INCOME)
    assert out.empty and tuple(out.columns) == UNLINKED_COLUMNS


def test_a_person_listed_from_t_on_is_not_there_and_the_window_counts_back_from_t():
    out = unlinked_signals(UNLINKED, pd.Timestamp("2023-03-01"), SOURCES, LOCAL_INCOME)
    # u1 is listed first in T's month; u5's listing of 2022-03 is 12 months back; u6's cost
    # is known only in May
    assert out["person_key"].tolist() == ["u2", "u5", "u6"]
