"""Precision and recall at k, with ties handled."""

import numpy as np
import pandas as pd
import pytest

from models.capacity import at_k, at_k_by_snapshot, selection_weights


def test_without_ties_worst_best_and_expected_agree():
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    label = np.array([1, 0, 1, 0, 1], bool)
    r = at_k(score, label, 2)
    assert r.precision == r.precision_worst == r.precision_best == 0.5
    assert r.recall == pytest.approx(1 / 3)
    assert not r.ties_matter


def test_ties_at_the_kth_score_give_differing_worst_and_best_precision():
    # one clear top household (a fall), then four tied at 0.5 of which two fall; k = 3
    score = np.array([0.9, 0.5, 0.5, 0.5, 0.5, 0.1])
    label = np.array([1, 1, 0, 1, 0, 1], bool)
    r = at_k(score, label, 3)
    assert r.precision_worst == pytest.approx(1 / 3)  # both tied places go to non-falls
    assert r.precision_best == pytest.approx(1.0)  # both go to falls
    assert r.precision == pytest.approx((1 + 2 * 2 / 4) / 3)  # a random draw: half the tied fall
    assert r.recall_worst == pytest.approx(1 / 4) and r.recall_best == pytest.approx(3 / 4)
    assert r.tied == 4 and r.ties_matter


def test_a_rule_that_flags_everyone_equally_is_no_better_than_the_base_rate_in_expectation():
    rng = np.random.default_rng(0)
    label = rng.random(1000) < 0.1
    r = at_k(np.ones(1000), label, 50)
    assert r.precision == pytest.approx(label.mean())
    assert r.precision_worst == 0.0 and r.precision_best == 1.0


def test_selection_weights_sum_to_k_and_missing_scores_come_last():
    score = np.array([np.nan, 0.2, 0.2, 0.9, np.nan])
    w = selection_weights(score, 2)
    assert w.sum() == pytest.approx(2)
    assert w[3] == 1 and w[1] == w[2] == 0.5 and w[0] == w[4] == 0
    assert selection_weights(score, 10).sum() == pytest.approx(5)  # k capped at the list length


def test_capacity_is_monthly_each_snapshot_is_ranked_alone():
    frame = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2023-01-01"] * 3 + ["2023-02-01"] * 3),
            "score": [0.9, 0.8, 0.1, 0.3, 0.2, 0.1],  # February's scores are all below January's
            "label": [1, 0, 0, 1, 0, 0],
        }
    )
    r = at_k_by_snapshot(frame, "score", "label", k=1)
    assert r.precision == 1.0  # a pooled ranking would have visited only January
    assert at_k_by_snapshot(frame, "score", "label", share=0.34).k == 2  # ceil(3 * 0.34)
