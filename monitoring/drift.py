"""One month against the reference: PSI and Jensen-Shannon of every feature and of the score,
overall and in every group, and the share of each group in each tier.

A group the reference does not know (a county added to the region) has no PSI: it is listed
with ``new_group`` so that the report says so instead of comparing it with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitoring.bins import js_divergence, psi
from monitoring.reference import ALL, SCORE, TIERS, Reference, group_codes, grouped_shares, tier_of_rank


@dataclass
class Drift:
    """Tidy tables of one month's drift."""

    features: pd.DataFrame  # feature, kind, group, rows, reference_rows, psi, js, judged, top, new_group
    score: pd.DataFrame  # the same columns for the calibrated score
    tiers: pd.DataFrame  # group, tier, reference_share, share
    means: pd.DataFrame  # feature, reference_mean, mean (overall)
    shares: dict[str, tuple[list[float], list[float]]]  # feature or SCORE → (reference, month) overall

    def overall(self, feature: str) -> float:
        rows = self.features if feature != SCORE else self.score
        hit = rows[(rows["feature"] == feature) & (rows["group"] == ALL)]
        return float(hit["psi"].iloc[0]) if len(hit) else float("nan")


def measure_drift(
    reference: Reference,
    frame: pd.DataFrame,
    risk: np.ndarray,
    group_columns: list[str],
    min_group_rows: int,
    top_features: int,
) -> Drift:
    """Drift of ``frame`` (this month's cohort: features and group columns) scored ``risk``."""
    groups, codes = group_codes(frame, group_columns)
    n_groups = len(groups)
    top = set(reference.top_features(top_features))
    records: list[dict[str, object]] = []
    means: list[dict[str, object]] = []
    overall: dict[str, tuple[list[float], list[float]]] = {}
    rows = np.zeros(n_groups)
    for name, bins in reference.bins.items():
        if name == SCORE:
            values = np.asarray(risk, dtype="float64")
        elif name in frame.columns:
            values = frame[name].to_numpy(dtype="float64")
        else:  # a feature the snapshot no longer has: all missing, which is drift
            values = np.full(len(frame), np.nan)
        current, rows = grouped_shares(bins.assign(values), bins.size, codes, n_groups, None)
        ref_by_group = reference.shares[name]
        for i, group in enumerate(groups):
            known = group in ref_by_group
            ref = np.asarray(ref_by_group[group]) if known else None
            ref_rows = reference.rows.get(group, 0.0)
            records.append(
                {
                    "feature": name,
                    "kind": bins.kind,
                    "group": group,
                    "rows": int(rows[i]),
                    "reference_rows": int(ref_rows),
                    "psi": float(psi(ref, current[i])) if ref is not None and rows[i] else float("nan"),
                    "js": float(js_divergence(ref, current[i]))
                    if ref is not None and rows[i]
                    else float("nan"),
                    "judged": bool(known and rows[i] >= min_group_rows and ref_rows >= min_group_rows)
                    or group == ALL,
                    "top": name in top,
                    "new_group": not known,
                }
            )
        overall[name] = (list(map(float, ref_by_group[ALL])), list(map(float, current[0])))
        finite = np.isfinite(values)
        means.append(
            {
                "feature": name,
                "reference_mean": reference.means.get(name, float("nan")),
                "mean": float(values[finite].mean()) if finite.any() else float("nan"),
                "missing_share": float(1 - finite.mean()) if len(values) else float("nan"),
            }
        )
    table = pd.DataFrame.from_records(records)
    tier = tier_of_rank(np.asarray(risk, dtype="float64"), None, reference.tier_cut_shares)
    t, _ = grouped_shares(tier, len(TIERS), codes, n_groups, None)
    tiers = pd.DataFrame(
        [
            {
                "group": g,
                "tier": tn,
                "reference_share": reference.tier_shares.get(g, {}).get(tn, float("nan")),
                "share": float(t[i, j]),
            }
            for i, g in enumerate(groups)
            for j, tn in enumerate(TIERS)
        ]
    )
    is_score = table["feature"] == SCORE
    return Drift(
        features=table.loc[~is_score].reset_index(drop=True),
        score=table.loc[is_score].reset_index(drop=True),
        tiers=tiers,
        means=pd.DataFrame(means),
        shares=overall,
    )
