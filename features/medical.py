"""Medical spending from the settlements known before T, in windows by admission date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.config import FeaturesConfig
from features.spine import Spine
from features.timeline import in_window


def capped_share(numerator: np.ndarray, denominator: np.ndarray, cap: float) -> np.ndarray:
    """numerator / denominator, at most ``cap``; 0 when both are 0, ``cap`` for x / 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.inf)
    share = np.where(numerator > 0, share, 0.0)
    return np.minimum(share, cap)


def medical_features(
    spine: Spine,
    medical_settlements: pd.DataFrame,
    visible_income: np.ndarray,
    local_income: np.ndarray,
    config: FeaturesConfig,
) -> pd.DataFrame:
    """Out-of-pocket cost over 3/6/12 months and its weight, stays, chronic care, payments."""
    s = medical_settlements
    s = s[in_window(s, spine.as_of, 12)] if len(s) else s
    hh = spine.household_of(s) if len(s) else np.empty(0, "int64")
    oop = (s["copay"].to_numpy() + s["self_pay"].to_numpy()) if len(s) else np.empty(0)
    out: dict[str, np.ndarray] = {}
    for months in (3, 6, 12):
        inside = in_window(s, spine.as_of, months) if len(s) else np.empty(0, bool)
        out[f"oop_medical_{months}m"] = spine.total(hh[inside], oop[inside])
    cap = config.ratio_cap
    out["oop_medical_6m_share"] = capped_share(out["oop_medical_6m"], 6 * visible_income, cap)
    out["oop_medical_12m_share"] = capped_share(out["oop_medical_12m"], 12 * visible_income, cap)
    out["oop_medical_12m_to_local_income"] = capped_share(out["oop_medical_12m"], local_income, cap)
    visit = s["visit_type"].to_numpy() if len(s) else np.empty(0, object)
    out["inpatient_stays_12m"] = spine.total(hh[visit == "inpatient"]).astype("int64")
    chronic = visit == "chronic_outpatient"
    out["chronic_outpatient_12m"] = spine.total(hh[chronic]).astype("int64")
    out["chronic_ill_members"] = spine.members_among(s[chronic]) if len(s) else np.zeros(spine.n, "int64")
    for column, name in (
        ("critical_illness_paid", "critical_illness_paid_12m"),
        ("assistance_paid", "medical_assistance_paid_12m"),
    ):
        out[name] = spine.total(hh, s[column].to_numpy()) if len(s) else np.zeros(spine.n)
    frame = pd.DataFrame(out)
    frame["chronic_ill_members"] = frame["chronic_ill_members"].astype("int64")
    return frame
