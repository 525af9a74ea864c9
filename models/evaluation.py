"""Scores → the numbers a model owner reads: ranking, capacity, groups, latent truth, oracle.

Every function takes a frame with one row per household and as-of date (``as_of``, ``label``
and score columns) and returns plain values or frames; nothing here writes anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from models.capacity import AtK, at_k_by_snapshot, selection_weights


def share_key(share: float) -> str:
    return f"top{round(share * 100):g}pct"


def ranking_metrics(score: np.ndarray, label: np.ndarray) -> dict[str, float]:
    label = np.asarray(label, dtype=bool)
    score = np.asarray(score, dtype=float)
    finite = np.isfinite(score)
    if not finite.any():
        return {"roc_auc": math.nan, "pr_auc": math.nan}
    # missing scores rank last, as in the capacity metrics
    score = np.where(finite, score, score[finite].min() - 1.0)
    if label.all() or not label.any():
        return {"roc_auc": math.nan, "pr_auc": math.nan}
    return {
        "roc_auc": float(roc_auc_score(label, score)),
        "pr_auc": float(average_precision_score(label, score)),
    }


def capacity_metrics(
    frame: pd.DataFrame, score: str, label: str, k: int, shares: Sequence[float]
) -> dict[str, float]:
    """Precision/recall at k visits a month and at each share, with worst/best under ties."""
    out: dict[str, float] = {}
    cuts: list[tuple[str, AtK]] = [("at_k", at_k_by_snapshot(frame, score, label, k=k))]
    cuts += [(f"at_{share_key(s)}", at_k_by_snapshot(frame, score, label, share=s)) for s in shares]
    for name, r in cuts:
        for metric in ("precision", "recall"):
            for suffix in ("", "_worst", "_best"):
                out[f"{metric}_{name}{suffix}"] = getattr(r, metric + suffix)
        out[f"tied_{name}"] = float(r.tied)
    return out


def expected_selection(frame: pd.DataFrame, score: str, k: int) -> np.ndarray:
    """Per row, the probability of being among the k visited in its own as-of month."""
    weights = np.zeros(len(frame))
    positions = np.arange(len(frame))
    for _, idx in frame.groupby("as_of", sort=False).indices.items():
        weights[positions[idx]] = selection_weights(frame[score].to_numpy(float)[idx], k)
    return weights


def group_metrics(frame: pd.DataFrame, score: str, label: str, k: int, groups: Sequence[str]) -> pd.DataFrame:
    """Recall at capacity per group and its ratio to the overall recall (plus precision, size).

    The k visits are chosen over the whole region, as they are in practice; a group whose
    recall ratio is far below 1 has its falls found less often than the region's.
    """
    selected = expected_selection(frame, score, k)
    y = frame[label].to_numpy(bool)
    overall = (selected * y).sum() / max(y.sum(), 1)
    parts = []
    for column in groups:
        if column not in frame.columns:
            continue
        data = pd.DataFrame(
            {
                "value": frame[column].astype("string").to_numpy(),
                "sel": selected,
                "hit": selected * y,
                "pos": y,
            }
        )
        g = data.groupby("value", sort=True).agg(
            rows=("sel", "size"), selected=("sel", "sum"), hits=("hit", "sum"), positives=("pos", "sum")
        )
        g["recall_at_k"] = g["hits"] / g["positives"].where(g["positives"] > 0)
        g["precision_at_k"] = g["hits"] / g["selected"].where(g["selected"] > 0)
        g["recall_ratio"] = g["recall_at_k"] / overall if overall > 0 else math.nan
        parts.append(g.reset_index().assign(group=column))
    cols = [
        "group",
        "value",
        "rows",
        "positives",
        "selected",
        "recall_at_k",
        "precision_at_k",
        "recall_ratio",
    ]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def scale_k(k: int, sample_rows: int, population_rows: int) -> int:
    """The capacity scaled to a sample of the snapshot (same share of households visited)."""
    return max(1, round(k * sample_rows / max(population_rows, 1)))


def oracle_share(frame: pd.DataFrame, score: str, k: int) -> dict[str, float]:
    """How much of the oracle's precision at capacity the score reaches, on sampled households.

    ``p_fall`` is the true probability (simulator Monte Carlo) for a sample of households;
    the oracle visits the sample's highest p_fall. Both precisions are expectations (mean
    p_fall of those visited), which is less noisy than counting realised falls. k is scaled
    to the sample's share of its snapshot. Expects columns ``p_fall`` and ``cohort_rows``.
    """
    sampled = frame.loc[frame["p_fall"].notna()]
    if sampled.empty:
        return {}
    model_prec, oracle_prec, n = [], [], 0
    for _, part in sampled.groupby("as_of"):
        kk = scale_k(k, len(part), int(part["cohort_rows"].iloc[0]))
        p = part["p_fall"].to_numpy(float)
        w = selection_weights(part[score].to_numpy(float), kk)
        model_prec.append((w * p).sum() / kk)
        oracle_prec.append(np.sort(p)[::-1][:kk].mean())
        n += len(part)
    m, o = float(np.mean(model_prec)), float(np.mean(oracle_prec))
    return {
        "oracle_precision_at_k": o,
        "model_expected_precision_at_k_sampled": m,
        "oracle_share_at_k": m / o if o > 0 else math.nan,
        "oracle_sample_rows": float(n),
    }
