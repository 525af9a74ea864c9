"""Evaluation at visit capacity: precision and recall among the k households ranked first.

Ties matter: a rule baseline gives thousands of households the same score, and a model can tie
too. When the k-th place falls inside a block of equal scores, which of the tied households get
visited is arbitrary, so we report the worst case (the tied negatives are taken first), the best
case (the tied positives first) and the expectation under a random draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class AtK:
    """Outcome of visiting the top ``k`` of one ranked list."""

    k: int
    positives: int  # positives in the whole list
    precision: float  # expected under a random choice among the tied households
    precision_worst: float
    precision_best: float
    recall: float
    recall_worst: float
    recall_best: float
    tied: int  # households sharing the k-th score

    @property
    def ties_matter(self) -> bool:
        return self.precision_worst != self.precision_best


def selection_weights(score: np.ndarray, k: int) -> np.ndarray:
    """Probability that each household is among the k visited, ties drawn at random.

    1 above the k-th score, 0 below, and (places left)/(tied households) for the tied block.
    """
    score = np.asarray(score, dtype=float)
    n = len(score)
    k = min(k, n)
    weights = np.zeros(n)
    if k <= 0:
        return weights
    # NaN scores rank last (a household without a score is never chosen before a scored one)
    filled = np.where(np.isnan(score), -np.inf, score)
    kth = np.partition(filled, n - k)[n - k]
    above = filled > kth
    tied = filled == kth
    weights[above] = 1.0
    weights[tied] = (k - above.sum()) / tied.sum()
    return weights


def at_k(score: np.ndarray, label: np.ndarray, k: int) -> AtK:
    """Precision and recall at k with the worst, best and expected tie-break."""
    score = np.asarray(score, dtype=float)
    label = np.asarray(label, dtype=bool)
    k = min(k, len(score))
    total = int(label.sum())
    if k <= 0:
        return AtK(0, total, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    weights = selection_weights(score, k)
    above = weights == 1.0
    tied = (weights > 0) & ~above
    places = k - int(above.sum())
    hits_above = int(label[above].sum())
    tied_pos = int(label[tied].sum())
    tied_neg = int(tied.sum()) - tied_pos
    worst = hits_above + max(0, places - tied_neg)
    best = hits_above + min(places, tied_pos)
    expected = float((weights * label).sum())

    def rate(hits: float, of: int) -> float:
        return hits / of if of else math.nan

    return AtK(
        k=k,
        positives=total,
        precision=rate(expected, k),
        precision_worst=rate(worst, k),
        precision_best=rate(best, k),
        recall=rate(expected, total),
        recall_worst=rate(worst, total),
        recall_best=rate(best, total),
        tied=int(tied.sum()) if places else 0,
    )


def k_for_share(rows: int, share: float) -> int:
    return max(1, math.ceil(rows * share))


def at_k_by_snapshot(
    frame: pd.DataFrame, score: str, label: str, k: int | None = None, share: float = 0.0
) -> AtK:
    """Mean of :func:`at_k` over as-of dates: capacity is monthly, so each snapshot is ranked alone.

    Give ``k`` (absolute visits a month) or ``share`` (of each snapshot's households).
    """
    results = []
    for _, part in frame.groupby("as_of", sort=True):
        kk = k if k is not None else k_for_share(len(part), share)
        results.append(at_k(part[score].to_numpy(float), part[label].to_numpy(bool), kk))
    return mean_at_k(results)


def mean_at_k(results: list[AtK]) -> AtK:
    if len(results) == 1:
        return results[0]
    fields = ["precision", "precision_worst", "precision_best", "recall", "recall_worst", "recall_best"]
    means = {f: float(np.nanmean([getattr(r, f) for r in results])) for f in fields}
    return AtK(
        k=round(np.mean([r.k for r in results])),
        positives=sum(r.positives for r in results),
        tied=max(r.tied for r in results),
        **means,
    )


def curve_at_k(score: np.ndarray, label: np.ndarray, ks: np.ndarray) -> pd.DataFrame:
    """Precision and recall at each k of ``ks`` (ties broken by the given order: a plotting aid)."""
    score = np.asarray(score, dtype=float)
    label = np.asarray(label, dtype=bool)
    order = np.argsort(-np.where(np.isnan(score), -np.inf, score), kind="stable")
    hits = np.cumsum(label[order])
    ks = np.clip(np.asarray(ks, dtype=int), 1, len(score))
    total = max(int(label.sum()), 1)
    return pd.DataFrame({"k": ks, "precision": hits[ks - 1] / ks, "recall": hits[ks - 1] / total})
