"""Spine, composition, income against the policy lines, events, disability, assistance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.snapshot import SNAPSHOT_COLUMNS, check_snapshot
from tests.unit.features.factory import snapshot, tables

T = "2023-06-01"
DIBAO_2023 = 12720 / 12


def contribution(person: str, month: str, base: float, status: str = "due") -> dict:
    return {
        "known_month": month,
        "event_date": f"{month}-01",
        "person_key": person,
        "scheme": "enterprise",
        "contribution_base": base,
        "payment_status": status,
    }


def test_the_snapshot_has_the_contract_columns_and_dtypes():
    snap = snapshot(tables(), T).reset_index()
    assert tuple(snap.columns) == SNAPSHOT_COLUMNS
    check_snapshot(snap)
    assert str(snap["as_of"].dtype) == "datetime64[us]"
    row = snap.set_index("household_key").loc["h1"]
    assert (row["county_code"], row["town_code"], row["village_code"]) == (
        "330502",
        "330502001",
        "330502001001",
    )
    assert bool(row["urban"])  # a 社区


def test_composition_counts_ages_at_t():
    snap = snapshot(tables(), T)
    h1, h2 = snap.loc["h1"], snap.loc["h2"]
    assert (h1["members"], h1["children"], h1["working_age"], h1["elderly"]) == (3, 1, 2, 0)
    assert h1["dependency_ratio"] == 0.5
    assert bool(h2["elderly_alone"]) and not bool(h1["elderly_alone"])
    assert h2["head_age"] == 70
    assert snap.loc["h2", "household_type"] == "elderly_alone"


def test_income_ratio_to_dibao_and_edge_use_the_county_standard_of_t_year():
    rows = [contribution("p1", "2023-05", 3000.0)]
    h1 = snapshot(tables(pension_contributions=rows), T).loc["h1"]
    assert h1["visible_income_per_capita"] == pytest.approx(1000.0)
    assert h1["income_ratio_to_dibao"] == pytest.approx(1000.0 / DIBAO_2023)
    assert h1["income_ratio_to_edge"] == pytest.approx(1000.0 / (1.5 * DIBAO_2023))
    assert bool(h1["below_edge_line"])


def test_income_change_compares_the_same_members_3_months_back_and_is_nan_without_history():
    rows = [contribution("p1", "2023-02", 6000.0), contribution("p1", "2023-05", 3000.0)]
    h1 = snapshot(tables(pension_contributions=rows), T).loc["h1"]
    assert h1["income_change_3m"] == pytest.approx(-0.5)
    assert np.isnan(h1["income_change_12m"])


def test_contribution_gaps_and_interruptions():
    rows = [
        contribution("p1", "2023-03", 4000.0, "interrupted"),
        contribution("p1", "2023-04", 4000.0, "interrupted"),
        contribution("p1", "2023-05", 4000.0, "interrupted"),
        contribution("p2", "2023-05", 4000.0),
    ]
    h1 = snapshot(tables(pension_contributions=rows), T).loc["h1"]
    assert h1["contribution_gap_months_12m"] == 3
    assert h1["contribution_interrupted"] == 1
    assert h1["earners"] == 1


def death(person: str, household: str, date: str, known: str = "2023-04") -> dict:
    return {
        "known_month": known,
        "event_date": date,
        "person_key": person,
        "household_key": household,
        "birth_date": "1950-01-01",
        "change_type": "death",
    }


def test_earner_died_needs_visible_income_before_the_death():
    rows = [contribution("p1", "2023-02", 5000.0)]
    with_income = snapshot(
        tables(pension_contributions=rows, hukou_changes=[death("p1", "h1", "2023-03-20")]), T
    )
    assert bool(with_income.loc["h1", "earner_died_6m"])
    without = snapshot(tables(hukou_changes=[death("p2", "h1", "2023-03-20")]), T)
    assert not bool(without.loc["h1", "earner_died_6m"])
    assert without.loc["h1", "deaths_12m"] == 1
    long_ago = snapshot(
        tables(pension_contributions=rows, hukou_changes=[death("p1", "h1", "2022-10-20", "2022-11")]), T
    )
    assert not bool(long_ago.loc["h1", "earner_died_6m"])
    assert long_ago.loc["h1", "deaths_12m"] == 1


def test_a_split_marks_both_the_new_and_the_old_household():
    split = {
        "known_month": "2023-03",
        "event_date": "2023-02-10",
        "person_key": "p3",
        "household_key": "h2",  # moved from h1 into h2 (the test's households stand in)
        "birth_date": "2013-03-01",
        "change_type": "split",
    }
    snap = snapshot(tables(hukou_changes=[split]), T)
    assert bool(snap.loc["h1", "household_split_12m"]) and bool(snap.loc["h2", "household_split_12m"])


def certificate(person: str, known: str, event: str, grade: str, change: str) -> dict:
    return {
        "known_month": known,
        "event_date": event,
        "person_key": person,
        "disability_grade": grade,
        "change_type": change,
        "living_subsidy": "N",
        "care_subsidy": "N",
    }


def test_new_severe_disability_counts_a_change_to_grade_1_2_but_not_a_mild_certificate():
    rows = [
        certificate("p1", "2022-01", "2020-01-01", "3", "new"),
        certificate("p1", "2023-05", "2023-04-01", "2", "regraded"),
        certificate("p2", "2023-05", "2023-04-01", "4", "new"),
    ]
    h1 = snapshot(tables(disability_certificates=rows), T).loc["h1"]
    assert h1["new_severe_disability_3m"] == 1
    assert h1["disability_worsened_12m"] == 1
    assert h1["severe_disability_members"] == 1
    assert h1["disabled_members"] == 2
    assert h1["new_disability_12m"] == 1
    cancelled = [*rows, certificate("p1", "2023-05", "2023-05-10", "2", "cancelled")]
    assert snapshot(tables(disability_certificates=cancelled), T).loc["h1", "severe_disability_members"] == 0


def roster(known: str, person: str = "p1", state: str = "active") -> dict:
    return {
        "known_month": known,
        "event_date": pd.Timestamp(f"{known}-01") + pd.offsets.MonthEnd(0),
        "case_key": "c1",
        "person_key": person,
        "category": "dibao",
        "monthly_benefit": 600.0,
        "income_per_capita": 530.0,
        "admitted_date": "2022-06-15",
        "state": state,
    }


def test_exits_phase_out_and_a_missing_roster_month_that_is_not_an_exit():
    # on the roster 2022-09..2022-12 (phase-out in Nov-Dec), October not delivered at all,
    # off from 2023-01; another household keeps the other months delivered
    months = ["2022-09", "2022-11", "2022-12"]
    rows = [roster(m, state="phase_out" if m >= "2022-11" else "active") for m in months]
    rows += [
        roster(m, person="p4") for m in ["2022-09", "2022-11", "2022-12", "2023-01", "2023-02", "2023-03"]
    ]
    snap = snapshot(tables(assistance_roster=rows), "2023-04-01")
    h1 = snap.loc["h1"]
    assert (h1["exits_12m"], h1["exits_24m"], h1["phase_out_months"], h1["assisted_months_24m"]) == (
        1,
        1,
        2,
        3,
    )
    assert h1["months_since_exit"] == 3  # left by the 2023-01 roster
    assert h1["assistance_spells_24m"] == 1
    assert snap.loc["h1", "assistance_state"] == "none" and bool(snap.loc["h1", "in_cohort"])
    h2 = snap.loc["h2"]
    assert (h2["exits_24m"], h2["assisted_months_24m"]) == (0, 6)
    assert h2["assistance_state"] == "dibao" and not bool(h2["in_cohort"])
    assert h2["months_since_admitted"] == 10
    assert h2["assessed_income_ratio_to_dibao"] == pytest.approx(530 / DIBAO_2023)


def test_medical_shares_are_capped_when_there_is_no_visible_income():
    settle = {
        "known_month": "2023-05",
        "event_date": "2023-04-01",
        "person_key": "p4",
        "visit_type": "chronic_outpatient",
        "critical_illness_paid": 0.0,
        "assistance_paid": 0.0,
        "copay": 62000.0,
        "self_pay": 0.0,
    }
    h2 = snapshot(tables(medical_settlements=[settle]), T).loc["h2"]
    assert h2["oop_medical_6m_share"] == 10.0
    assert h2["oop_medical_12m_to_local_income"] == pytest.approx(1.0)  # 2022's 62,000
    assert (h2["chronic_ill_members"], h2["household_type"]) == (1, "elderly_alone")


def test_feature_dtypes_hold_for_an_empty_region():
    data = tables()
    data = type(data)(**{**data.__dict__, "households": data.households.iloc[:0]})
    snap = snapshot(data, T).reset_index()
    assert len(snap) == 0
    assert tuple(snap.columns) == SNAPSHOT_COLUMNS
    assert isinstance(snap, pd.DataFrame)
