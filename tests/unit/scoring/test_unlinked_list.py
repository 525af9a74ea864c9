"""The second list (scoring/unlinked_list.py): per-town capacity, order, reasons, due dates."""

from __future__ import annotations

import pandas as pd

from features.unlinked import UNLINKED_COLUMNS
from scoring.config import ScoringConfig, UnlinkedList
from scoring.unlinked_list import COLUMNS, unlinked_list

T = pd.Timestamp("2023-06-01")
TOWN_A, TOWN_B = "330502001", "330502002"
INCOME = 62_000.0  # 40%: 24,800


def person(key: str, score: float, town: str | None = TOWN_A, **signals: object) -> dict:
    base = {
        "person_key": key,
        "as_of": T,
        "sources": "medical_settlements",
        "oop_medical_12m": 0.0,
        "inpatient_stays_12m": 0,
        "chronic_outpatient_12m": 0,
        "critical_illness_paid_12m": 0.0,
        "medical_assistance_paid_12m": 0.0,
        "severe_disability": False,
        "disability_no_care_subsidy": False,
        "newly_unemployed_3m": False,
        "unemployed": False,
        "contribution_interrupted": False,
        "score": score,
        "rank": 0,
        "village_code": None if town is None else f"{town}005",
        "town_code": town,
        "county_code": None if town is None else town[:6],
        "local_income": INCOME,
    }
    assert set(base) >= set(UNLINKED_COLUMNS)
    return base | signals


def config(capacity: int = 5, min_score: float = 1.0) -> ScoringConfig:
    return ScoringConfig(unlinked=UnlinkedList(town_capacity=capacity, min_score=min_score))


def test_each_town_lists_its_top_people_by_score_then_cost_then_key():
    people = pd.DataFrame(
        [
            person("a1", 2.0),
            person("a2", 5.0),
            person("a3", 2.0, oop_medical_12m=1_000.0),  # ties a1 and a4: the larger cost first
            person("a4", 2.0),
            person("b1", 1.0, TOWN_B),
            person("b2", 0.0, TOWN_B),  # no signal: never listed
            person("u1", 9.0, None),  # unplaced: counted by the run, not listed
        ]
    )
    out = unlinked_list(people, config(capacity=3))
    assert list(out.columns) == COLUMNS
    assert out["person_key"].tolist() == ["a2", "a3", "a1", "b1"]  # a4 is cut by the capacity
    assert out["rank_in_town"].tolist() == [1, 2, 3, 1]
    assert out["town_code"].tolist() == [TOWN_A] * 3 + [TOWN_B]
    assert out["county_code"].tolist() == ["330502"] * 4
    assert out["rank_in_town"].dtype == "int64" and out["score"].dtype == "float64"
    assert str(out["as_of"].dtype).startswith("datetime64") and str(out["due_date"].dtype).startswith(
        "datetime64"
    )


def test_the_minimum_score_and_a_zero_capacity_keep_people_off():
    people = pd.DataFrame([person("a1", 2.0), person("a2", 3.0)])
    assert unlinked_list(people, config(min_score=2.5))["person_key"].tolist() == ["a2"]
    empty = unlinked_list(people, config(capacity=0))
    assert empty.empty and list(empty.columns) == COLUMNS


def test_reasons_name_the_facts_behind_the_score_in_both_languages():
    people = pd.DataFrame(
        [
            person("m", 6.0, oop_medical_12m=26_527.0, inpatient_stays_12m=2, chronic_outpatient_12m=1),
            person("d", 3.0, severe_disability=True, disability_no_care_subsidy=True),
            person("w", 2.0, newly_unemployed_3m=True, unemployed=True, contribution_interrupted=True),
            person("s", 1.0, oop_medical_12m=6_527.0, chronic_outpatient_12m=3),  # cost below 40%: not said
        ]
    )
    out = unlinked_list(people, config()).set_index("person_key")
    assert out.loc["m", "reasons_zh"] == (
        "近12个月医疗自付 26,527 元（当地人均可支配收入的 43%）；近12个月住院 2 次；近12个月门诊慢特病 1 次"
    )
    assert (
        "26,527 yuan medical cost out of pocket in 12 months (43% of local income per head)"
        in (out.loc["m", "reasons_en"])
    )
    assert out.loc["d", "reasons_zh"] == "重度残疾，未享受护理补贴"
    assert out.loc["d", "reasons_en"] == "severe disability, no care subsidy"
    assert (
        out.loc["w", "reasons_zh"] == "近3个月新登记失业；社保缴费中断"
    )  # new registration, not also "latest"
    assert out.loc["s", "reasons_zh"] == "近12个月门诊慢特病 3 次"
    assert out.loc["s", "reasons_en"] == "3 chronic-disease outpatient settlements in 12 months"


def test_the_visit_is_due_in_working_days_after_t_skipping_holidays():
    cfg = ScoringConfig(
        unlinked=UnlinkedList(due_working_days=2), holidays=["2023-06-02"]
    )  # T is a Thursday; Friday is a holiday
    out = unlinked_list(pd.DataFrame([person("a", 1.0)]), cfg)
    assert out["due_date"].iloc[0] == pd.Timestamp("2023-06-06")
    assert out["as_of"].iloc[0] == T
