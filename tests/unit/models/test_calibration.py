"""Calibration: a risk of 0.2 should mean about one in five."""

import numpy as np
import pytest

from models.calibration import (
    brier_score,
    expected_calibration_error,
    fit_calibrator,
    logit,
    reliability_curve,
)
from models.sampling import negative_rate, sample_negatives

RNG = np.random.default_rng(3)
TRUE = 1 / (1 + np.exp(-RNG.normal(-3, 1.2, 40_000)))
LABEL = RNG.random(len(TRUE)) < TRUE
# scores from a booster trained with upweighted positives: inflated log-odds
RAW = 1 / (1 + np.exp(-(1.5 * logit(TRUE) + 2.0)))


@pytest.mark.parametrize("kind", ["platt", "isotonic"])
def test_calibration_brings_inflated_scores_back_to_observed_rates(kind):
    cal = fit_calibrator(RAW[:20_000], LABEL[:20_000], kind)
    prob = cal.transform(RAW[20_000:])
    y = LABEL[20_000:]
    assert brier_score(prob, y) < brier_score(RAW[20_000:], y)
    assert abs(prob.mean() - y.mean()) < 0.01
    assert expected_calibration_error(reliability_curve(prob, y)) < 0.01


def test_platt_keeps_the_ranking_so_capacity_metrics_do_not_change():
    cal = fit_calibrator(RAW, LABEL, "platt")
    assert (np.argsort(cal.transform(RAW[:500])) == np.argsort(RAW[:500])).all()


def test_a_calibrator_round_trips_through_json():
    cal = fit_calibrator(RAW, LABEL, "isotonic")
    again = type(cal).from_dict(cal.to_dict())
    assert np.allclose(again.transform(RAW[:100]), cal.transform(RAW[:100]))


def test_reliability_bins_hold_equal_counts():
    curve = reliability_curve(TRUE, LABEL, bins=10)
    assert len(curve) == 10 and curve["rows"].nunique() == 1


def test_negative_sampling_with_reweighting_keeps_the_weighted_base_rate():
    rate = negative_rate(LABEL, 5)
    idx, w = sample_negatives(LABEL, rate, seed=1)
    assert LABEL[idx].sum() == LABEL.sum()  # every positive kept
    assert (~LABEL[idx]).sum() == pytest.approx(5 * LABEL.sum(), rel=0.1)
    assert (w * LABEL[idx]).sum() / w.sum() == pytest.approx(LABEL.mean(), rel=0.05)
    assert negative_rate(LABEL, None) == 1.0
