"""PSI, Jensen-Shannon, reference bins and drift by group, on frames whose shift is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from monitoring.bins import Bins, fit_bins, js_divergence, psi, weighted_quantiles
from monitoring.config import DriftRules
from monitoring.drift import measure_drift
from monitoring.outcomes import calibration_line, expected_outcomes, realised_outcomes
from monitoring.reference import ALL, SCORE, Reference, build_reference
from monitoring.rules import Finding, drift_findings, outcome_findings, status_of

TIERS = {"red": 0.01, "orange": 0.05, "yellow": 0.10}
FEATURES = [("income", False), ("zeros", False), ("grade", True)]


def frame(
    n: int, rng: np.random.Generator, shift: float = 0.0, county_shift: str | None = None
) -> pd.DataFrame:
    county = rng.choice(["330502", "330503"], n)
    income = rng.lognormal(8, 0.8, n)
    moved = (county == county_shift) if county_shift else np.ones(n, bool)
    income = np.where(moved, income * np.exp(shift), income)
    zeros = np.where(rng.random(n) < 0.8, 0.0, rng.poisson(3, n) + 1.0)
    grade = rng.choice([0.0, 1.0, 2.0, np.nan], n, p=[0.6, 0.3, 0.05, 0.05])
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp("2023-01-01"),
            "county_code": county,
            "urban": rng.random(n) < 0.4,
            "income": income,
            "zeros": zeros,
            "grade": grade,
        }
    )


def reference(rng: np.random.Generator, n: int = 20_000) -> tuple[Reference, pd.DataFrame]:
    ref = frame(n, rng)
    risk = 1 / (1 + np.exp(np.log(ref["income"]) - 6))
    built = build_reference(
        ref,
        risk,
        FEATURES,
        model_version="3",
        group_columns=["county_code", "urban"],
        importance=["income", "grade", "zeros"],
        tier_shares=TIERS,
    )
    return built, ref


def test_psi_and_js_are_zero_for_equal_shares_and_grow_with_the_shift():
    r = np.array([0.25, 0.25, 0.25, 0.25])
    assert psi(r, r) == pytest.approx(0.0)
    assert js_divergence(r, r) == pytest.approx(0.0)
    small, large = np.array([0.3, 0.25, 0.25, 0.2]), np.array([0.7, 0.1, 0.1, 0.1])
    assert 0 < psi(r, small) < psi(r, large)
    assert 0 < js_divergence(r, small) < js_divergence(r, large) <= 1
    # a bin empty in the reference that fills up is a large shift, not infinity
    assert np.isfinite(psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])))
    assert psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])) > 1


def test_decile_bins_hold_a_tenth_each_and_keep_a_mass_at_zero_in_one_bin():
    rng = np.random.default_rng(1)
    x = rng.normal(size=50_000)
    bins = fit_bins("x", x, "numeric", 10)
    shares = np.bincount(bins.assign(x), minlength=bins.size) / len(x)
    assert len(bins.edges) == 9
    assert np.allclose(shares[:-1], 0.1, atol=0.01) and shares[-1] == 0
    mostly_zero = np.where(rng.random(10_000) < 0.8, 0.0, rng.random(10_000) + 1)
    zb = fit_bins("z", mostly_zero, "numeric", 10)
    assert zb.edges[0] == 0.0 and (zb.assign(mostly_zero) == 0).mean() == pytest.approx(0.8, abs=0.02)
    assert zb.assign(np.array([np.nan]))[0] == zb.size - 1  # missing: the last bin


def test_weighted_quantiles_count_each_row_by_its_weight():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantiles(x, [0.5])[0] == 2.0
    assert weighted_quantiles(x, [0.5], np.array([1, 1, 1, 10]))[0] == 4.0


def test_categorical_bins_put_an_unseen_code_in_other():
    b = fit_bins("g", np.array([0.0, 1.0, 1.0, 2.0]), "categorical")
    idx = b.assign(np.array([1.0, 7.0, np.nan]))
    assert list(idx) == [1, 3, 4]
    assert Bins.from_dict(json.loads(json.dumps(b.to_dict()))) == b


def test_the_same_population_is_stable_and_a_shift_is_flagged_where_it_happens():
    rng = np.random.default_rng(2)
    ref, _ = reference(rng)
    assert Reference.from_dict(json.loads(ref.to_json())).shares == ref.shares
    rules = DriftRules(min_group_rows=1000)

    def drift(month: pd.DataFrame):
        risk = 1 / (1 + np.exp(np.log(month["income"]) - 6))
        return measure_drift(ref, month, risk, ["county_code", "urban"], rules.min_group_rows, 2)

    same = drift(frame(8_000, rng))
    assert same.features["psi"].max() < 0.02
    assert drift_findings(same, rules) == []
    moved = drift(frame(8_000, rng, shift=-0.6, county_shift="330503"))
    by = moved.features.set_index(["feature", "group"])["psi"]
    assert by[("income", "county_code=330503")] >= 0.25
    assert by[("income", "county_code=330502")] < 0.05
    assert by[("zeros", "county_code=330503")] < 0.05
    findings = drift_findings(moved, rules)
    assert findings[0].level == "red" and findings[0].group == "county_code=330503"
    assert {f.subject for f in findings} <= {"income", SCORE}


def test_a_small_group_is_reported_but_not_judged_and_a_new_group_has_no_psi():
    rng = np.random.default_rng(3)
    ref, _ = reference(rng)
    month = frame(3_000, rng, shift=-1.0)
    month.loc[:9, "county_code"] = "330599"  # ten households of a county the model never saw
    risk = np.full(len(month), 0.05)
    d = measure_drift(ref, month, risk, ["county_code"], 2_000, 2)
    new = d.features[d.features["group"] == "county_code=330599"]
    assert new["new_group"].all() and new["psi"].isna().all() and not new["judged"].any()
    small = d.features[d.features["group"] == "county_code=330503"]
    assert not small["judged"].any() and (small["psi"] > 0.25).any()
    assert d.features.loc[d.features["group"] == ALL, "judged"].all()


def test_expected_and_realised_outcomes_agree_for_a_calibrated_score():
    rng = np.random.default_rng(4)
    p = rng.beta(1, 30, 200_000)
    y = rng.random(len(p)) < p
    e = expected_outcomes(p, 200)
    assert e["expected_falls"] == pytest.approx(p.sum())
    assert e["expected_precision_at_k"] == pytest.approx(np.sort(p)[-200:].mean())
    frame_ = pd.DataFrame(
        {"risk": p, "label": y, "as_of": pd.Timestamp("2023-01-01"), "county_code": "330503"}
    )
    r, groups = realised_outcomes(frame_, 200, ["county_code"], 2.0, 0.15)
    assert r["realised.falls_band_low"] <= r["realised.observed_falls"] <= r["realised.falls_band_high"]
    assert r["realised.calibration_slope"] == pytest.approx(1.0, abs=0.1)
    assert abs(r["realised.calibration_intercept"]) < 0.2
    assert groups["group_name"].tolist() == ["county_code=330503"]
    assert outcome_findings(r, "2023-01", DriftRules()) == []
    # the same risks, twice too high: more falls and a higher precision promised than come
    r2, _ = realised_outcomes(frame_.assign(risk=np.minimum(p * 2, 1)), 200, [], 2.0, 0.15)
    found = outcome_findings(r2, "2023-01", DriftRules())
    assert [(f.kind, f.level) for f in found] == [
        ("precision_below_band", "amber"),
        ("falls_outside_band", "watch"),
    ]
    strict = outcome_findings(r2, "2023-01", DriftRules(falls_outside_band_is_amber=True))
    assert [f.level for f in strict] == ["amber", "amber"]
    slope, _ = calibration_line(np.clip(p * 3, 0, 0.99), y)
    assert slope < 0.95  # risks too extreme: slope below 1


def test_amber_two_months_running_is_red():
    rules = DriftRules()
    amber = [Finding("amber", "feature_drift", "income", ALL, 0.12, "income PSI 0.120 overall")]
    assert status_of([], ["amber"], rules)[0] == "green"
    assert status_of(amber, ["green"], rules)[0] == "amber"
    status, found = status_of(amber, ["amber"], rules)
    assert status == "red" and found[0].kind == "amber_running"
    assert status_of(amber, [], rules)[0] == "amber"
    watch = [Finding("watch", "other_feature_drift", "x", ALL, 0.4, "x PSI 0.400 overall")]
    assert status_of(watch, ["amber"], rules)[0] == "green"  # shown, never judged


def test_a_feature_outside_the_top_ones_is_watched_at_the_red_threshold_only():
    rng = np.random.default_rng(5)
    ref, _ = reference(rng)
    month = frame(8_000, rng)
    month["zeros"] = month["zeros"] + 2.0  # "zeros" is third in importance: outside the top 2
    risk = 1 / (1 + np.exp(np.log(month["income"]) - 6))
    d = measure_drift(ref, month, risk, ["county_code"], 1_000, 2)
    found = drift_findings(d, DriftRules())
    assert found and {f.level for f in found} == {"watch"} and {f.subject for f in found} == {"zeros"}
    assert status_of(found, [], DriftRules())[0] == "green"
