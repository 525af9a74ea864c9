"""Class imbalance: negative sampling with reweighting.

Falls into poverty are rare (a few percent of the cohort over six months), and a city's
training window holds millions of household-months. We keep every positive, keep each
negative with probability ``rate`` and give kept negatives weight ``1/rate``. Why this rather
than ``scale_pos_weight``: (1) it cuts rows, memory and time by up to 1/rate at little cost to
ranking, because the information is in the positives and the negatives near them; (2) the
reweighting keeps the weighted base rate equal to the true one, so the booster's output stays
on the probability scale and calibration only corrects its shape. Upweighting positives would
instead inflate every score by the weight and leave all the correction to the calibrator.

Visited households (a visit label, see features/labels.py) are kept like positives, whatever
their label: they are the few rows whose outcome a worker saw, and an explored one stands for
1/p households; dropping it at random would throw that away. Kept for certain, their sampling
weight is 1 (the visit weight is applied on top by models/train.py).
"""

from __future__ import annotations

import numpy as np


def negative_rate(labels: np.ndarray, negatives_per_positive: float | None) -> float:
    """The keep rate that leaves at most ``negatives_per_positive`` negatives per positive."""
    labels = np.asarray(labels, dtype=bool)
    pos = int(labels.sum())
    neg = len(labels) - pos
    if negatives_per_positive is None or pos == 0 or neg == 0:
        return 1.0
    return float(min(1.0, negatives_per_positive * pos / neg))


def sample_negatives(
    labels: np.ndarray, rate: float, seed: int, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions kept and their weights: 1 for positives and for rows in ``keep`` (visited
    households, never dropped), 1/rate for the negatives kept at random."""
    labels = np.asarray(labels, dtype=bool)
    certain = labels if keep is None else labels | np.asarray(keep, dtype=bool)
    rng = np.random.default_rng(seed)
    kept = certain | (rng.random(len(labels)) < rate)
    idx = np.flatnonzero(kept)
    weights = np.where(certain[idx], 1.0, 1.0 / rate)
    return idx, weights
