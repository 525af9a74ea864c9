"""A row known in T's month or later never reaches the snapshot at T, even when its event
date is earlier: three rows per source, one known before T, one known in T's month with an
earlier event date, one known after T; only the first counts."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from tests.unit.features.factory import membership, snapshot, tables

T = "2023-06-01"
KNOWN = ("2023-05", "2023-06", "2023-07")  # before T, T's month, after
EVENTS = ("2023-04-15", "2023-04-20", "2023-03-10")  # the later deliveries describe earlier events


def three(**by_row: tuple) -> list[dict]:
    """Three rows: the known months and event dates above, columns given per row."""
    rows = []
    for i, (known, event) in enumerate(zip(KNOWN, EVENTS, strict=True)):
        rows.append({"known_month": known, "event_date": event} | {k: v[i] for k, v in by_row.items()})
    return rows


CASES = {
    "medical_settlements": (
        three(
            person_key=("p1",) * 3,
            visit_type=("inpatient",) * 3,
            critical_illness_paid=(0.0,) * 3,
            assistance_paid=(0.0,) * 3,
            copay=(100.0, 200.0, 400.0),
            self_pay=(0.0,) * 3,
        ),
        {("h1", "oop_medical_12m"): 100.0, ("h1", "inpatient_stays_12m"): 1},
    ),
    "pension_contributions": (
        [
            r | {"event_date": "2023-05-01"}
            for r in three(
                person_key=("p1",) * 3,
                scheme=("enterprise",) * 3,
                contribution_base=(3000.0, 5000.0, 7000.0),
                payment_status=("due",) * 3,
            )
        ],
        {("h1", "wage_income"): 3000.0, ("h1", "earners"): 1},
    ),
    "pension_payments": (
        [
            r | {"event_date": "2023-05-01"}
            for r in three(person_key=("p4",) * 3, amount=(2000.0, 2500.0, 3000.0))
        ],
        {("h2", "pension_income"): 2000.0},
    ),
    "employment_registrations": (
        three(
            person_key=("p1", "p2", "p3"),
            registration_type=("unemployed",) * 3,
            unemployment_benefit=(1500.0,) * 3,
        ),
        {("h1", "newly_unemployed_3m"): 1, ("h1", "unemployment_benefit_income"): 1500.0},
    ),
    "assistance_roster": (
        three(
            case_key=("c4", "c1", "c1"),
            person_key=("p4", "p1", "p1"),
            category=("dibao", "tekun", "tekun"),
            monthly_benefit=(500.0, 900.0, 900.0),
            income_per_capita=(300.0,) * 3,
            admitted_date=("2023-01-01",) * 3,
            state=("active",) * 3,
        ),
        {
            ("h2", "assistance_state"): "dibao",
            ("h1", "assistance_state"): "none",
            ("h2", "assistance_income"): 500.0,
        },
    ),
    "temporary_assistance": (
        three(person_key=("p1",) * 3, amount=(1000.0, 2000.0, 4000.0), aid_type=("expenditure",) * 3),
        {("h1", "temporary_aid_12m"): 1, ("h1", "temporary_aid_amount_12m"): 1000.0},
    ),
    "disability_certificates": (
        three(
            person_key=("p1", "p2", "p3"),
            disability_grade=("1", "2", "1"),
            change_type=("new",) * 3,
            living_subsidy=("N",) * 3,
            care_subsidy=("Y",) * 3,
        ),
        {("h1", "severe_disability_members"): 1, ("h1", "new_severe_disability_3m"): 1},
    ),
    "house_safety": (
        three(
            house_key=("x",) * 3,
            person_key=("p4",) * 3,
            safety_grade=("C", "D", "D"),
            renovation_status=("none",) * 3,
        ),
        {("h2", "house_grade_c"): True, ("h2", "house_grade_d"): False},
    ),
    "property_registrations": (
        three(person_key=("p1",) * 3, direction=("disposed",) * 3, reason=("sale",) * 3),
        {("h1", "property_sold_12m"): 1},
    ),
    "hukou_changes": (
        three(
            person_key=("p4", "p1", "p2"),
            household_key=("h2", "h1", "h1"),
            birth_date=("1953-03-01", "1978-03-01", "1980-03-01"),
            change_type=("death",) * 3,
        ),
        {("h2", "deaths_12m"): 1, ("h1", "deaths_12m"): 0},
    ),
}


@pytest.mark.parametrize("source", list(CASES))
def test_only_the_row_known_before_t_counts(source):
    rows, expected = CASES[source]
    snap = snapshot(tables(**{source: rows}), T)
    for (household, feature), value in expected.items():
        assert snap.loc[household, feature] == value, (source, household, feature)


def test_membership_delivered_in_t_month_does_not_count():
    data = tables()
    late = membership([("p5", "h1", "daughter", "2023-05-20")], ["2023-06"])
    data = dataclasses.replace(data, households=pd.concat([data.households, late], ignore_index=True))
    snap = snapshot(data, T)
    assert snap.loc["h1", "members"] == 3
    assert snapshot(data, "2023-07-01").loc["h1", "members"] == 4  # the June delivery counts from July


def settlement(known: str) -> dict:
    return {
        "known_month": known,
        "event_date": "2023-02-10",
        "person_key": "p1",
        "visit_type": "inpatient",
        "critical_illness_paid": 0.0,
        "assistance_paid": 0.0,
        "copay": 3000.0,
        "self_pay": 1000.0,
    }


def test_a_late_settlement_moved_a_month_later_changes_features_only_from_that_snapshot():
    on_time = tables(medical_settlements=[settlement("2023-05")])
    late = tables(medical_settlements=[settlement("2023-06")])
    for as_of, same in (("2023-05-01", True), ("2023-06-01", False), ("2023-07-01", True)):
        a, b = snapshot(on_time, as_of), snapshot(late, as_of)
        assert bool(a.loc["h1", "oop_medical_12m"] == b.loc["h1", "oop_medical_12m"]) is same, as_of
        pd.testing.assert_frame_equal(a.drop(index="h1"), b.drop(index="h1"))
    assert snapshot(late, "2023-06-01").loc["h1", "oop_medical_12m"] == 0.0
    assert snapshot(late, "2023-07-01").loc["h1", "oop_medical_12m"] == 4000.0
