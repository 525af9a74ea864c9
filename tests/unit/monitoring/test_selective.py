"""Selective labels: on a synthetic cohort whose truth is known, the inverse-propensity
estimate recovers the hardship rate and the ranked list's recall within its interval; the
naive precision of what was visited does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitoring.selective import selective_evaluation

COHORT, RANKED, EXPLORED = 20_000, 1_000, 600


def _listed(seed: int, response: float = 0.9) -> tuple[pd.DataFrame, float, float]:
    """A cohort with heterogeneous hardship, the top of a noisy score listed by rank and a
    uniform sample of the rest explored; the visited households' results (no miss), the true
    cohort hardship rate and the true recall of the ranked list."""
    rng = np.random.default_rng(seed)
    risk = rng.beta(0.6, 12, COHORT)
    poor = rng.random(COHORT) < risk
    score = np.log(risk) + rng.normal(0, 0.6, COHORT)
    order = np.argsort(-score)
    ranked, rest = order[:RANKED], order[RANKED:]
    explored = rng.choice(rest, EXPLORED, replace=False)
    listed = np.concatenate([ranked, explored])
    p = np.concatenate([np.ones(RANKED), np.full(EXPLORED, EXPLORED / len(rest))])
    reached = rng.random(len(listed)) < response
    result = np.where(poor[listed], "confirmed", "no_hardship").astype(object)
    unreached = np.flatnonzero(~reached)
    result[unreached] = "unreachable"
    result[unreached[rng.random(len(unreached)) < 0.5]] = None  # not visited at all
    frame = pd.DataFrame(
        {
            "selection": ["rank"] * RANKED + ["explore"] * EXPLORED,
            "listing_probability": p,
            "result": result,
        }
    )
    return frame, float(poor.mean()), float(poor[ranked].sum() / poor.sum())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_weighted_estimate_recovers_the_cohort_rate_and_the_naive_precision_does_not(seed):
    frame, true_rate, true_recall = _listed(seed)
    ev = selective_evaluation(frame, cohort_size=COHORT, seed=seed)
    assert ev.hardship_rate.covers(true_rate), (ev.hardship_rate, true_rate)
    assert ev.rank_recall.covers(true_recall), (ev.rank_recall, true_recall)
    assert not ev.hardship_rate.low <= ev.visited_precision <= ev.hardship_rate.high
    assert ev.visited_precision > 2 * true_rate  # the list is where the hardship is
    assert abs(ev.cohort_estimate - COHORT) / COHORT < 0.05  # the weights add up to the cohort
    assert ev.hardship_rate_ht is not None and abs(ev.hardship_rate_ht - true_rate) < 3 * ev.hardship_rate.se
    assert 0 < ev.hardship_rate.se < 0.02


def _rare(seed: int) -> tuple[pd.DataFrame, float]:
    """The closed loop's situation: hardship of about 0.16%, 2,300 ranked and 600 explored
    visits a quarter over 18,000 households, so about one explored household is confirmed."""
    rng = np.random.default_rng(seed)
    cohort, ranked, explored = 18_000, 2_300, 600
    risk = rng.beta(0.3, 0.3 / 0.0016, cohort)
    poor = rng.random(cohort) < risk
    order = np.argsort(-(np.log(risk + 1e-9) + rng.normal(0, 1.0, cohort)))
    rest = order[ranked:]
    listed = np.concatenate([order[:ranked], rng.choice(rest, explored, replace=False)])
    result = np.where(poor[listed], "confirmed", "no_hardship").astype(object)
    result[rng.random(len(listed)) < 0.08] = "unreachable"
    frame = pd.DataFrame(
        {
            "selection": ["rank"] * ranked + ["explore"] * explored,
            "listing_probability": np.concatenate([np.ones(ranked), np.full(explored, explored / len(rest))]),
            "result": result,
        }
    )
    return frame, float(poor.mean())


def test_the_interval_of_a_rare_rate_holds_the_truth_about_as_often_as_it_says():
    draws = [_rare(seed) for seed in range(60)]
    held = [
        selective_evaluation(f, seed=i, n_boot=200).hardship_rate.covers(t) for i, (f, t) in enumerate(draws)
    ]
    assert np.mean(held) >= 0.85  # a bootstrap interval held it about half the time


def test_counts_and_non_response_and_bad_input():
    frame, _, _ = _listed(4, response=0.7)
    ev = selective_evaluation(frame)
    assert ev.listed == len(frame) and ev.labelled == frame["result"].isin(["confirmed", "no_hardship"]).sum()
    assert ev.confirmed == (frame["result"] == "confirmed").sum()
    assert ev.visited_precision == pytest.approx(ev.confirmed / ev.labelled)
    assert ev.hardship_rate_ht is None
    assert selective_evaluation(frame, seed=7) == selective_evaluation(frame, seed=7)  # deterministic
    with pytest.raises(ValueError, match="probabilit"):
        selective_evaluation(frame.assign(listing_probability=0.0))
    with pytest.raises(ValueError, match="columns"):
        selective_evaluation(frame.drop(columns=["selection"]))
