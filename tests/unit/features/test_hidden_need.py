"""Signals of hidden need (features/hidden_need.py) on the factory's two households at
T = 2023-06-01: h1 (p1 45, p2 43, p3 10) and h2 (p4 70, alone). 湖州's 低保 standard in 2023
is 12,720 a year: 1,060 a month, so the 低保边缘 line is 1,590 per head. Every signal is
checked against a row known in T's month (or later) that must not count."""

from __future__ import annotations

import pytest

from tests.unit.features.factory import snapshot, tables

T = "2023-06-01"
DIBAO = 12720 / 12
EDGE = 1.5 * DIBAO


def wages(base: float, person: str = "p1") -> list[dict]:
    """One due enterprise contribution for May, delivered in May."""
    return [
        {
            "known_month": "2023-05",
            "event_date": "2023-05-01",
            "person_key": person,
            "scheme": "enterprise",
            "contribution_base": base,
            "payment_status": "due",
        }
    ]


def settlement(person: str, known: str, visit: str = "outpatient", **values: float) -> dict:
    return {
        "known_month": known,
        "event_date": f"{known}-05",
        "person_key": person,
        "visit_type": visit,
        "critical_illness_paid": values.get("critical", 0.0),
        "assistance_paid": values.get("assistance", 0.0),
        "copay": values.get("copay", 0.0),
        "self_pay": 0.0,
    }


def roster(person: str, category: str, known: str = "2023-05") -> dict:
    return {
        "known_month": known,
        "event_date": f"{known}-28",
        "case_key": f"c-{person}",
        "person_key": person,
        "category": category,
        "monthly_benefit": 0.0,
        "income_per_capita": 500.0,
        "admitted_date": "2023-01-01",
        "state": "active",
    }


def certificate(person: str, grade: str, care: str, living: str, known: str = "2023-03") -> dict:
    return {
        "known_month": known,
        "event_date": f"{known}-10",
        "person_key": person,
        "disability_grade": grade,
        "change_type": "new",
        "living_subsidy": living,
        "care_subsidy": care,
    }


def aid(person: str, known: str) -> dict:
    return {
        "known_month": known,
        "event_date": f"{known}-02",
        "person_key": person,
        "amount": 2000.0,
        "aid_type": "expenditure",
    }


def test_income_below_dibao_with_nothing_on_record():
    snap = snapshot(tables(pension_contributions=wages(2000.0)), T)
    h1, h2 = snap.loc["h1"], snap.loc["h2"]
    assert h1["unassisted_below_dibao"]
    assert h1["unassisted_dibao_shortfall"] == pytest.approx(1 - (2000 / 3) / DIBAO)
    assert h2["unassisted_below_dibao"] and h2["unassisted_dibao_shortfall"] == 1.0  # no income at all
    wealthy = snapshot(tables(pension_contributions=wages(4000.0)), T).loc["h1"]
    assert not wealthy["unassisted_below_dibao"] and wealthy["unassisted_dibao_shortfall"] == 0.0


@pytest.mark.parametrize(
    "record",
    [
        {"assistance_roster": [roster("p4", "dibao_edge", "2022-08")]},  # any category, 10 months ago
        {"temporary_assistance": [aid("p4", "2023-02")]},
        {"medical_settlements": [settlement("p4", "2023-01", "inpatient", assistance=300.0)]},
    ],
)
def test_any_assistance_on_record_known_before_t_clears_the_flag(record):
    assert not snapshot(tables(**record), T).loc["h2", "unassisted_below_dibao"]


@pytest.mark.parametrize(
    "record",
    [
        {"assistance_roster": [roster("p4", "dibao_edge", "2022-05")]},  # 13 months before T
        {"assistance_roster": [roster("p4", "dibao", "2023-06")]},  # known in T's month
        {"temporary_assistance": [aid("p4", "2023-06")]},
        {"medical_settlements": [settlement("p4", "2023-06", "inpatient", assistance=300.0)]},
    ],
)
def test_a_record_outside_the_window_or_known_from_t_on_does_not_count(record):
    h2 = snapshot(tables(**record), T).loc["h2"]
    assert h2["unassisted_below_dibao"] and h2["unassisted_dibao_shortfall"] == 1.0


def test_elderly_alone_with_chronic_illness_or_repeated_claims():
    chronic = [
        settlement("p4", "2023-03", "chronic_outpatient"),
        settlement("p1", "2023-03", "chronic_outpatient"),
    ]
    snap = snapshot(tables(medical_settlements=chronic), T)
    assert snap.loc["h2", "elderly_alone_chronic"]
    assert not snap.loc["h1", "elderly_alone_chronic"]  # chronic illness, but not an elderly household
    three = [settlement("p4", m) for m in ("2023-01", "2023-02", "2023-04")]
    assert snapshot(tables(medical_settlements=three), T).loc["h2", "elderly_alone_chronic"]
    assert not snapshot(tables(medical_settlements=three[:2]), T).loc["h2", "elderly_alone_chronic"]
    # the third claim is known only in T's month: two count
    late = [*three[:2], settlement("p4", "2023-06") | {"event_date": "2023-04-20"}]
    assert not snapshot(tables(medical_settlements=late), T).loc["h2", "elderly_alone_chronic"]
    late_chronic = [settlement("p4", "2023-06", "chronic_outpatient") | {"event_date": "2023-05-20"}]
    assert not snapshot(tables(medical_settlements=late_chronic), T).loc["h2", "elderly_alone_chronic"]


@pytest.mark.parametrize(
    ("care", "living", "expected"),
    [("N", "N", 1), ("Y", "N", 1), ("Y", "Y", 0), ("N", "Y", 1)],
)
def test_severe_disability_without_a_subsidy_it_is_likely_entitled_to(care, living, expected):
    # h2 has no visible income: below the 低保边缘 line, so the living subsidy is due too
    certs = [certificate("p4", "1", care, living)]
    assert (
        snapshot(tables(disability_certificates=certs), T).loc["h2", "severe_disability_no_subsidy"]
        == expected
    )


def test_the_living_subsidy_is_expected_only_below_the_edge_line_and_only_for_grades_1_2():
    certs = [certificate("p1", "2", "Y", "N"), certificate("p2", "3", "N", "N")]
    above = snapshot(tables(disability_certificates=certs, pension_contributions=wages(6000.0)), T)
    assert above.loc["h1", "severe_disability_no_subsidy"] == 0  # 2,000 a head, above 1,590
    below = snapshot(tables(disability_certificates=certs, pension_contributions=wages(3000.0)), T)
    assert below.loc["h1", "severe_disability_no_subsidy"] == 1  # p1 only: p2's grade 3 is not severe
    late = [certificate("p4", "1", "N", "N", known="2023-06") | {"event_date": "2023-05-10"}]
    assert snapshot(tables(disability_certificates=late), T).loc["h2", "severe_disability_no_subsidy"] == 0


def test_rigid_spending_against_the_edge_line():
    oop = [settlement("p1", f"2022-{m:02d}", copay=3000.0) for m in range(7, 13)]  # 18,000 in 12 months
    snap = snapshot(tables(pension_contributions=wages(6000.0), medical_settlements=oop), T)
    h1 = snap.loc["h1"]
    assert h1["rigid_income_ratio_to_edge"] == pytest.approx((6000 - 18000 / 12) / 3 / EDGE)
    assert h1["income_ratio_to_edge"] > 1 > h1["rigid_income_ratio_to_edge"]
    assert h1["rigid_spending_below_edge"]
    h2 = snap.loc["h2"]  # no income and no spending: below the line already, not through spending
    assert h2["rigid_income_ratio_to_edge"] == 0.0 and not h2["rigid_spending_below_edge"]
    no_cost = snapshot(tables(pension_contributions=wages(6000.0)), T).loc["h1"]
    assert no_cost["rigid_income_ratio_to_edge"] == pytest.approx(2000 / EDGE)
    assert not no_cost["rigid_spending_below_edge"]
    # the same costs settled in T's month (stays of earlier months) do not count
    late = [r | {"known_month": "2023-06"} for r in oop]
    late_h1 = snapshot(tables(pension_contributions=wages(6000.0), medical_settlements=late), T).loc["h1"]
    assert late_h1["rigid_income_ratio_to_edge"] == pytest.approx(2000 / EDGE)
    assert not late_h1["rigid_spending_below_edge"]


def test_a_huge_bill_is_floored_at_minus_the_ratio_cap():
    bill = [settlement("p4", "2023-02", "inpatient", copay=10_000_000.0)]
    assert snapshot(tables(medical_settlements=bill), T).loc["h2", "rigid_income_ratio_to_edge"] == -10.0


def test_single_person_cases_in_a_household_below_the_edge_line():
    ill = [
        settlement("p1", "2023-02", "inpatient", critical=5000.0),
        settlement("p3", "2023-01", "inpatient"),
        settlement("p3", "2023-04", "inpatient"),
    ]
    certs = [certificate("p2", "2", "Y", "Y")]
    data = {"pension_contributions": wages(2000.0), "medical_settlements": ill}
    assert snapshot(tables(**data), T).loc["h1", "single_person_case_members"] == 2  # p1 and p3
    assert (
        snapshot(tables(**data, disability_certificates=certs), T).loc["h1", "single_person_case_members"]
        == 3
    )
    one_stay = {"pension_contributions": wages(2000.0), "medical_settlements": ill[:2]}
    assert (
        snapshot(tables(**one_stay), T).loc["h1", "single_person_case_members"] == 1
    )  # one stay is not serious
    rich = {"pension_contributions": wages(6000.0), "medical_settlements": ill}
    assert snapshot(tables(**rich), T).loc["h1", "single_person_case_members"] == 0
    in_dibao = data | {"assistance_roster": [roster("p1", "dibao")]}
    assert snapshot(tables(**in_dibao), T).loc["h1", "single_person_case_members"] == 0
    edge = data | {"assistance_roster": [roster("p1", "dibao_edge")]}
    assert snapshot(tables(**edge), T).loc["h1", "single_person_case_members"] == 2  # 低保边缘 is not 低保
    late = [r | {"known_month": "2023-06"} for r in ill]
    late_data = {"pension_contributions": wages(2000.0), "medical_settlements": late}
    assert snapshot(tables(**late_data), T).loc["h1", "single_person_case_members"] == 0
