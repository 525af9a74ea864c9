"""Observable labels use only deliveries of months T .. T+H-1 and events dated from T on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

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


def visits_frame(rows: list[tuple[str, str, bool, str, float]]) -> pd.DataFrame:
    """Visits as outreach.outcomes.visit_outcomes returns them:
    (household, visit date, confirmed, the alert's month, listing probability)."""
    keys, dates, confirmed, months, probability = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "household_key": list(keys),
            "visit_date": pd.to_datetime(list(dates)),
            "hardship_confirmed": list(confirmed),
            "alert_as_of": pd.to_datetime(list(months)),
            "listing_probability": list(probability),
            "selection": ["explore" if p < 1 else "rank" for p in probability],
        }
    )


def test_a_household_listed_at_t_and_found_without_hardship_has_a_false_visit_label_weighted_1_over_p():
    snap = snapshot(tables(), T, visits_frame([("h1", "2023-04-10", False, T, 0.05)]))
    assert snap.loc["h1", "visit_label"] == False  # noqa: E712 (False, not NA)
    assert snap.loc["h1", "visit_weight"] == pytest.approx(20.0)
    assert not snap.loc["h1", "label"] and not snap.loc["h1", "label_applied"]
    assert pd.isna(snap.loc["h2", "visit_label"]) and np.isnan(snap.loc["h2", "visit_weight"])


def test_a_confirmed_visit_is_a_visit_label_and_a_label_but_not_an_applied_label():
    snap = snapshot(tables(), T, visits_frame([("h2", "2023-05-02", True, T, 1.0)]))
    assert snap.loc["h2", "visit_label"] and snap.loc["h2", "visit_weight"] == 1.0
    assert snap.loc["h2", "label"] and not snap.loc["h2", "label_applied"]


def test_the_visit_label_belongs_to_the_alerts_month_and_to_visits_within_the_horizon_only():
    visits = visits_frame(
        [
            ("h1", "2023-03-20", True, "2023-02-01", 0.1),  # listed the month before
            ("h2", "2023-09-05", True, T, 0.1),  # visited at T+H: after the horizon
        ]
    )
    at_t = snapshot(tables(), T, visits)
    assert at_t["visit_label"].isna().all() and at_t["visit_weight"].isna().all()
    assert at_t.loc["h1", "label"]  # a confirmed visit within the horizon still counts for `label`
    earlier = snapshot(tables(), "2023-02-01", visits)
    assert earlier.loc["h1", "visit_label"] and earlier.loc["h1", "visit_weight"] == pytest.approx(10.0)


def test_no_visit_label_outside_the_cohort_or_while_the_horizon_is_incomplete():
    visits = visits_frame([("h1", "2023-04-10", True, T, 0.5)])
    helped = snapshot(tables(assistance_roster=[roster_row("2023-02"), roster_row("2023-03")]), T, visits)
    assert pd.isna(helped.loc["h1", "visit_label"]) and np.isnan(helped.loc["h1", "visit_weight"])
    late = dataclasses.replace(tables(), delivered_through="2023-07")
    assert snapshot(late, T, visits)["visit_label"].isna().all()


def test_applications_stay_in_both_labels():
    snap = snapshot(tables(assistance_roster=[roster_row("2023-05")]), T)
    assert snap.loc["h1", "label"] and snap.loc["h1", "label_applied"]
    assert str(snap["label_applied"].dtype) == "boolean" and str(snap["visit_label"].dtype) == "boolean"
    assert str(snap["visit_weight"].dtype) == "float64"
