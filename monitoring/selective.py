"""Honest evaluation under selective labels: what the visits say about the whole cohort.

Workers only visit listed households, so "confirmed ÷ visited" is the precision of the list,
not a measure of how much hardship the ranking misses. Exploration (``scoring.exploration``)
lists a share of households at random with a known probability (``alerts.listing_probability``;
1.0 for the ranked ones), and that makes the visits a probability sample of the covered
cohort: weighting each labelled visit by 1 / (listing probability × the response rate of its
stratum) gives the Hájek estimate of the hardship rate over the cohort, and of the share of the
cohort's hardship the ranked list holds (its recall). Households not reached (no label) are
treated as missing at random within their stratum (by default the selection: rank, explore).

Pure: a frame in, numbers out. The standard errors, and the recall's interval, come from a
stratified bootstrap over the listed households (vectorised: one index matrix per stratum).
The hardship rate's interval is Wilson's on the Kish effective sample size of the weights
((Σw)² / Σw²): hardship is rare (a few per thousand) and an explored visit weighs hundreds, so
a quarter's explored visits hold about one confirmed household, and a bootstrap of that is a
near-empty interval. On a synthetic cohort at a rate of 0.16% (tests/unit/monitoring) the
bootstrap's 95% interval held the truth in 47% of 200 draws, Wilson's in 98%; at 5%, 91% and
96%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

LABELS = ("confirmed", "no_hardship")  # the results that say something (outreach.outcomes.LABELS)
COLUMNS = ("selection", "listing_probability", "result")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap standard error and its interval (the bootstrap's
    percentiles; for the hardship rate, Wilson's on the effective sample size)."""

    value: float
    se: float
    low: float
    high: float

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high


@dataclass(frozen=True)
class SelectiveEvaluation:
    """The naive figure and the weighted ones of one set of listed households.

    ``visited_precision``: confirmed ÷ labelled, over what was visited. ``hardship_rate``: the
    Hájek estimate of the hardship rate over the covered cohort. ``hardship_rate_ht``: the
    Horvitz-Thompson one when the cohort's size is known. ``rank_recall``: the share of the
    cohort's estimated hardship found among the rank-listed households. ``cohort_estimate``:
    the cohort size the weights imply (a check against the known one)."""

    listed: int
    labelled: int
    confirmed: int
    visited_precision: float
    hardship_rate: Estimate
    rank_recall: Estimate
    cohort_estimate: float
    hardship_rate_ht: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(frame: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"selective evaluation needs the columns {', '.join(missing)}")
    p = frame["listing_probability"].to_numpy(dtype="float64")
    if len(p) and not ((p > 0) & (p <= 1)).all():
        raise ValueError("every listing probability must lie in (0, 1]")


def _stratum_sums(
    labelled: np.ndarray, confirmed: np.ndarray, inv_p: np.ndarray, rank: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """Per replicate (rows of ``idx``): the stratum's response-weighted sums, stacked as
    (weight, weighted hardship, weighted hardship of rank-listed) over the last axis."""
    lab = labelled[idx]
    n = idx.shape[-1]
    responded = lab.sum(axis=-1)
    scale = np.where(responded > 0, n / np.maximum(responded, 1), 0.0)
    w = np.where(lab, inv_p[idx], 0.0)
    y = w * confirmed[idx]
    return np.stack(
        [scale * w.sum(axis=-1), scale * y.sum(axis=-1), scale * (y * rank[idx]).sum(axis=-1)], axis=-1
    )


def _estimate(value: float, replicates: np.ndarray, level: float) -> Estimate:
    good = replicates[np.isfinite(replicates)]
    if not len(good):
        return Estimate(value, float("nan"), float("nan"), float("nan"))
    tail = (1 - level) / 2
    low, high = np.quantile(good, [tail, 1 - tail])
    return Estimate(value, float(good.std(ddof=1)) if len(good) > 1 else 0.0, float(low), float(high))


def effective_size(labelled: np.ndarray, inv_p: np.ndarray, groups: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of the labelled rows' final weights (1 / listing
    probability × the stratum's inverse response rate)."""
    w = np.zeros(len(labelled))
    for g in np.unique(groups):
        members = groups == g
        responded = int((members & labelled).sum())
        if responded:
            w[members & labelled] = inv_p[members & labelled] * members.sum() / responded
    total = float((w**2).sum())
    return float(w.sum() ** 2 / total) if total > 0 else 0.0


def wilson(rate: float, n: float, level: float) -> tuple[float, float]:
    """Wilson's score interval of a proportion observed on (an effective) n."""
    if not n > 0 or not np.isfinite(rate):
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half = z * float(np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def selective_evaluation(
    frame: pd.DataFrame,
    *,
    cohort_size: int | None = None,
    strata: str = "selection",
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> SelectiveEvaluation:
    """Evaluate one set of listed households, one row each: ``selection`` ('rank' | 'explore'),
    ``listing_probability`` (in (0, 1]) and ``result`` (a visit result code, or missing when
    not visited yet). Only confirmed and no_hardship are labels; the others (and no visit)
    are non-response within the ``strata`` column's groups."""
    _check(frame)
    result = frame["result"].astype("object")
    labelled = result.isin(LABELS).to_numpy()
    confirmed = (result == "confirmed").to_numpy()
    inv_p = 1.0 / frame["listing_probability"].to_numpy(dtype="float64")
    rank = (frame["selection"] == "rank").to_numpy()
    groups = frame[strata].astype("str").to_numpy()
    rng = np.random.default_rng(seed)
    point = np.zeros(3)
    boot = np.zeros((n_boot, 3))
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        point += _stratum_sums(labelled, confirmed, inv_p, rank, members)
        draws = members[rng.integers(0, len(members), (n_boot, len(members)))]
        boot += _stratum_sums(labelled, confirmed, inv_p, rank, draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate, rate_boot = point[1] / point[0], boot[:, 1] / boot[:, 0]
        recall, recall_boot = point[2] / point[1], boot[:, 2] / boot[:, 1]
    n_labelled, n_confirmed = int(labelled.sum()), int(confirmed.sum())
    booted = _estimate(float(rate), rate_boot, level)
    low, high = wilson(float(rate), effective_size(labelled, inv_p, groups), level)
    return SelectiveEvaluation(
        listed=len(frame),
        labelled=n_labelled,
        confirmed=n_confirmed,
        visited_precision=n_confirmed / n_labelled if n_labelled else float("nan"),
        hardship_rate=Estimate(float(rate), booted.se, low, high),
        rank_recall=_estimate(float(recall), recall_boot, level),
        cohort_estimate=float(point[0]),
        hardship_rate_ht=float(point[1] / cohort_size) if cohort_size else None,
    )
