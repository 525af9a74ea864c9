"""Figures for the model owner: PR curve, reliability, SHAP summary, precision/recall at k.

Each function returns a matplotlib Figure (Agg backend, nothing shown or written here).
Only aggregates are drawn; the SHAP summary plots feature values as colours, never keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve

from models.capacity import curve_at_k
from models.risk_model import RiskModel
from models.schema import design_matrix

COMPARED = ("model", "baseline.logistic", "baseline.income_ratio", "baseline.rules_any")


def _finite(score: np.ndarray) -> np.ndarray:
    finite = np.isfinite(score)
    return np.where(finite, score, score[finite].min() - 1 if finite.any() else 0.0)


def pr_curve(scores: pd.DataFrame, label: str = "label", scorers: Sequence[str] = COMPARED) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    y = scores[label].to_numpy(bool)
    for scorer in scorers:
        precision, recall, _ = precision_recall_curve(y, _finite(scores[scorer].to_numpy(float)))
        ax.plot(recall, precision, label=scorer, lw=1.5 if scorer == "model" else 1)
    ax.axhline(y.mean(), color="grey", ls=":", label=f"base rate {y.mean():.3f}")
    ax.set(
        xlabel="recall", ylabel="precision", title="Precision-recall, test window", xlim=(0, 1), ylim=(0, 1)
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def reliability(curve: pd.DataFrame, raw_curve: pd.DataFrame | None = None) -> Figure:
    fig, ax = plt.subplots(figsize=(5, 5))
    top = float(max(curve["predicted"].max(), curve["observed"].max())) * 1.05
    ax.plot([0, top], [0, top], color="grey", ls=":", label="perfect")
    ax.plot(curve["predicted"], curve["observed"], "o-", label="calibrated")
    if raw_curve is not None:
        ax.plot(
            raw_curve["predicted"], raw_curve["observed"], "x--", alpha=0.7, label="booster, uncalibrated"
        )
    ax.set(xlabel="mean predicted risk (bin)", ylabel="observed rate", title="Reliability, test window")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def at_k(
    scores: pd.DataFrame, capacity: int, label: str = "label", scorers: Sequence[str] = COMPARED
) -> Figure:
    """Precision and recall against the number of visits in the latest test month."""
    latest = scores.loc[scores["as_of"] == scores["as_of"].max()]
    y = latest[label].to_numpy(bool)
    ks = np.unique(np.linspace(1, min(len(latest), max(5 * capacity, 10)), 200).astype(int))
    fig, (ax_p, ax_r) = plt.subplots(1, 2, figsize=(10, 4))
    for scorer in scorers:
        curve = curve_at_k(latest[scorer].to_numpy(float), y, ks)
        ax_p.plot(curve["k"], curve["precision"], label=scorer)
        ax_r.plot(curve["k"], curve["recall"], label=scorer)
    for ax, what in ((ax_p, "precision"), (ax_r, "recall")):
        ax.axvline(capacity, color="grey", ls=":", label=f"capacity k={capacity}")
        ax.set(xlabel="households visited (k)", ylabel=what, title=f"{what} at k", ylim=(0, 1))
    ax_p.legend(fontsize=8)
    fig.tight_layout()
    return fig


def shap_summary(model: RiskModel, frame: pd.DataFrame, rows: int, seed: int) -> Figure:
    """Beeswarm of LightGBM's exact tree SHAP values (pred_contrib) on a sample of test rows."""
    import shap  # here, not at the top: seconds to import, and only this plot needs it

    sample = frame.sample(min(rows, len(frame)), random_state=seed)
    contrib = model.contributions(sample).drop(columns="bias")
    fig = plt.figure()  # summary_plot draws on the current figure: make it a fresh one
    shap.summary_plot(
        contrib.to_numpy(), design_matrix(sample, model.feature_names), show=False, max_display=20
    )
    fig.suptitle("SHAP values (log-odds), test window sample")
    fig.tight_layout()
    return fig
