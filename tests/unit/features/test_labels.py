"""Observable labels use only deliveries of months T .. T+H-1 and events dated from T on."""

from __future__ import annotations

import dataclasses

import pandas as pd

from tests.unit.features.factory import snapshot, tables

T = "2023-03-01"  # horizon 6: deliveries 2023-03 .. 2023-08


def roster_row(known: str, person: str = "p1", category: str = "dibao") -> dict:
    return {
        "known_month": known,
        "event_date": pd.Timestamp(f"{known}-01") + pd.offsets.MonthEnd(0),
        "case_key": f"c-{person}",
        "person_key": person,
        "category": category,
        "monthly_benefit": 600.0,
        "income_per_capita": 400.0,
        "admitted_date": f"{known}-10",
        "state": "active",
    }


def aid_row(known: str, event: str, aid_type: str = "expenditure") -> dict:
    return {
        "known_month": known,
        "event_date": event,
        "person_key": "p1",
        "amount": 2000.0,
        "aid_type": aid_type,
    }


def test_entry_into_dibao_within_the_horizon_is_a_positive():
    snap = snapshot(tables(assistance_roster=[roster_row("2023-05")]), T)
    assert bool(snap.loc["h1", "label"])
    assert not snap.loc["h2", "label"]
    assert snap["label_complete"].all()


def test_entry_after_the_horizon_or_into_edge_is_not():
    snap = snapshot(
        tables(assistance_roster=[roster_row("2023-09"), roster_row("2023-04", category="dibao_edge")]), T
    )
    assert not snap.loc["h1", "label"]


def test_a_household_already_in_dibao_at_t_is_outside_the_cohort_with_no_label():
    snap = snapshot(tables(assistance_roster=[roster_row("2023-02"), roster_row("2023-03")]), T)
    assert not snap.loc["h1", "in_cohort"]
    assert snap.loc["h1", "assistance_state"] == "dibao"
    assert pd.isna(snap.loc["h1", "label"])
    assert snap.loc["h2", "in_cohort"]


def test_spending_aid_counts_only_when_paid_from_t_on():
    assert snapshot(tables(temporary_assistance=[aid_row("2023-04", "2023-04-02")]), T).loc["h1", "label"]
    # paid in February, delivered in March: an event before T is not an outcome after it
    assert not snapshot(tables(temporary_assistance=[aid_row("2023-03", "2023-02-25")]), T).loc["h1", "label"]
    assert not snapshot(tables(temporary_assistance=[aid_row("2023-04", "2023-04-02", "emergency")]), T).loc[
        "h1", "label"
    ]


def test_a_visit_confirming_hardship_is_a_positive():
    visits = pd.DataFrame(
        {
            "household_key": ["h2", "h1"],
            "visit_date": pd.to_datetime(["2023-04-10", "2023-02-10"]),
            "hardship_confirmed": [True, True],
        }
    )
    snap = snapshot(tables(), T, visits)
    assert snap.loc["h2", "label"]
    assert not snap.loc["h1", "label"]  # the visit was before T


def test_labels_are_missing_until_the_horizon_is_delivered():
    data = dataclasses.replace(tables(assistance_roster=[roster_row("2023-05")]), delivered_through="2023-07")
    snap = snapshot(data, T)
    assert snap["label"].isna().all()
    assert not snap["label_complete"].any()
    assert str(snap["label"].dtype) == "boolean"
