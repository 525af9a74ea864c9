"""Expected outcomes when a month is scored; realised ones when its labels mature.

At scoring (as-of T) the calibrated risks say how many households should fall within the
label horizon (their sum) and what precision the k visits should reach (the mean risk of the
k ranked first, with the Poisson-binomial standard error of that mean). H months later the
labels of T are complete and the same month is measured: precision and recall at capacity,
ROC-AUC, PR-AUC, Brier, calibration slope and intercept, falls observed against expected, and
the recall ratio of every group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from models.calibration import brier_score, logit
from models.capacity import at_k
from models.evaluation import group_metrics, ranking_metrics
from monitoring.reference import group_label


def expected_outcomes(risk: np.ndarray, k: int) -> dict[str, float]:
    """What the calibrated risks promise for this month's cohort."""
    p = np.asarray(risk, dtype="float64")
    p = p[np.isfinite(p)]
    n = len(p)
    kk = min(k, n)
    top = np.sort(p)[::-1][:kk]
    return {
        "cohort": float(n),
        "expected_falls": float(p.sum()),
        "expected_falls_sd": float(np.sqrt((p * (1 - p)).sum())),
        "expected_rate": float(p.mean()) if n else math.nan,
        "expected_precision_at_k": float(top.mean()) if kk else math.nan,
        "expected_precision_at_k_se": float(np.sqrt((top * (1 - top)).sum()) / kk) if kk else math.nan,
    }


def calibration_line(prob: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the logistic recalibration of the label on logit(risk).

    A calibrated model has slope 1 and intercept 0; a slope below 1 means its risks are too
    extreme, an intercept below 0 that it expects too many falls."""
    y = np.asarray(label, dtype=bool)
    if y.all() or not y.any():
        return math.nan, math.nan
    x = logit(np.clip(np.asarray(prob, dtype="float64"), 1e-6, 1 - 1e-6)).reshape(-1, 1)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(x, y)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def realised_outcomes(
    frame: pd.DataFrame, k: int, group_columns: Sequence[str], z: float, falls_tolerance: float
) -> tuple[dict[str, float], pd.DataFrame]:
    """Measured figures of one matured month (``risk``, ``label``, ``as_of`` and the group
    columns) and its group table (recall at capacity and the ratio to the overall recall).

    The band of falls is the expected number ± the larger of z standard deviations and the
    calibration tolerance (a share of the expected): base rates move a little month by
    month, and a calibrated model is not expected to follow them to the household."""
    p = frame["risk"].to_numpy(dtype="float64")
    y = frame["label"].to_numpy(dtype=bool)
    r = at_k(p, y, k)
    expected = expected_outcomes(p, k)
    slope, intercept = calibration_line(p, y)
    observed = float(y.sum())
    width = max(z * expected["expected_falls_sd"], falls_tolerance * expected["expected_falls"])
    out = {
        "realised.precision_at_k": r.precision,
        "realised.recall_at_k": r.recall,
        "realised.brier": brier_score(p, y),
        "realised.calibration_slope": slope,
        "realised.calibration_intercept": intercept,
        "realised.observed_falls": observed,
        "realised.expected_falls": expected["expected_falls"],
        "realised.observed_to_expected": observed / expected["expected_falls"]
        if expected["expected_falls"] > 0
        else math.nan,
        "realised.expected_precision_at_k": expected["expected_precision_at_k"],
        "realised.precision_band_low": max(
            0.0, expected["expected_precision_at_k"] - z * expected["expected_precision_at_k_se"]
        ),
        "realised.falls_band_low": max(0.0, expected["expected_falls"] - width),
        "realised.falls_band_high": expected["expected_falls"] + width,
    }
    out |= {f"realised.{key}": value for key, value in ranking_metrics(p, y).items()}
    groups = group_metrics(
        frame.assign(label=y), "risk", "label", k, [c for c in group_columns if c in frame]
    )
    groups = groups.assign(
        group_name=[group_label(g, v) for g, v in zip(groups["group"], groups["value"], strict=True)]
    )
    return out, groups
