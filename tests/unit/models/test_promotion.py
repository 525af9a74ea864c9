"""The promotion rule, on its own."""

import math

from models.registry import decide_promotion


def test_the_first_model_is_promoted():
    assert decide_promotion(0.1, None, margin=0.01).promote


def test_a_challenger_must_beat_the_champion_by_the_margin():
    assert decide_promotion(0.32, 0.30, margin=0.01).promote
    assert not decide_promotion(0.305, 0.30, margin=0.01).promote  # ahead, but by less than the margin
    assert not decide_promotion(0.29, 0.30, margin=0.0).promote
    assert not decide_promotion(0.30, 0.30, margin=0.0).promote  # a tie is no reason to switch


def test_a_champion_that_cannot_score_the_window_leaves_the_decision_to_a_person():
    d = decide_promotion(0.5, math.nan, margin=0.01, champion_version="3")
    assert not d.promote and "v3" in d.reason
