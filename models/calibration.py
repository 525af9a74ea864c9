"""Calibration of booster scores into probabilities, and how well probabilities are calibrated.

Calibrators are fitted on the validation window, later than training, so they correct what
the booster learned on older data (and the reweighting of sampled negatives). Both kinds keep
only plain arrays so they serialise to JSON, not pickles.

Platt (the default) is a logistic regression on the booster's log-odds: monotone and strictly
increasing, so it never creates ties in the ranking that decides who is visited, and two
parameters are stable with a few hundred positives. Isotonic is more flexible but a step
function: it ties households the booster had ordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

_EPS = 1e-7


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.asarray(np.log(p / (1 - p)), dtype=float)


@dataclass(frozen=True)
class Calibrator:
    """Maps raw booster probabilities to calibrated ones (Platt: ``a``, ``b``; isotonic: knots)."""

    kind: Literal["platt", "isotonic"]
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def transform(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.kind == "platt":
            return np.asarray(1.0 / (1.0 + np.exp(-(self.a * logit(raw) + self.b))), dtype=float)
        return np.asarray(np.interp(raw, np.asarray(self.x), np.asarray(self.y)), dtype=float)

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "a": self.a, "b": self.b, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(data["kind"], data["a"], data["b"], tuple(data["x"]), tuple(data["y"]))


def fit_calibrator(raw: np.ndarray, label: np.ndarray, kind: Literal["platt", "isotonic"]) -> Calibrator:
    """Fit on the validation window's raw scores and complete labels."""
    raw = np.asarray(raw, dtype=float)
    label = np.asarray(label, dtype=bool)
    if kind == "platt":
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(logit(raw).reshape(-1, 1), label)
        return Calibrator("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, label)
    return Calibrator(
        "isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )


def brier_score(prob: np.ndarray, label: np.ndarray) -> float:
    prob = np.asarray(prob, dtype=float)
    return float(np.mean((prob - np.asarray(label, dtype=float)) ** 2))


def reliability_curve(prob: np.ndarray, label: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed rate per quantile bin of the predictions (equal counts).

    Quantile bins because risks are skewed: equal-width bins would put nearly every household
    into the first bin and leave the high-risk end, the one visits act on, with a handful.
    """
    prob = np.asarray(prob, dtype=float)
    label = np.asarray(label, dtype=float)
    order = np.argsort(prob, kind="stable")
    bin_of = np.empty(len(prob), dtype=int)
    bin_of[order] = np.arange(len(prob)) * bins // max(len(prob), 1)
    frame = pd.DataFrame({"bin": bin_of, "predicted": prob, "observed": label})
    out = frame.groupby("bin").agg(
        predicted=("predicted", "mean"), observed=("observed", "mean"), rows=("observed", "size")
    )
    return out.reset_index()


def expected_calibration_error(curve: pd.DataFrame) -> float:
    """Row-weighted mean absolute gap between predicted and observed rates over the bins."""
    weights = curve["rows"] / curve["rows"].sum()
    return float((weights * (curve["predicted"] - curve["observed"]).abs()).sum())
