"""Disability certificates known before T: who holds one now, how severe, what changed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.spine import Spine
from features.timeline import in_window

SEVERE = ("1", "2")


def certificate_history(certificates: pd.DataFrame) -> pd.DataFrame:
    """Rows in time order per person, with the grade and validity before each row."""
    c = certificates.sort_values(["person_key", "event_date", "known_month"], kind="stable").reset_index(
        drop=True
    )
    same = c["person_key"].eq(c["person_key"].shift())
    valid = c["change_type"].to_numpy() != "cancelled"
    grade = pd.to_numeric(c["disability_grade"], errors="coerce").to_numpy(dtype="float64")
    prev_grade = np.where(same, np.roll(np.where(valid, grade, np.nan), 1), np.nan)
    return c.assign(grade=grade, valid=valid, prev_grade=prev_grade)


def disability_features(spine: Spine, disability_certificates: pd.DataFrame) -> pd.DataFrame:
    """Current holders, severe holders, new severe cases (3 months), new certificates and
    worsened grades (12 months), members receiving either subsidy."""
    zeros = np.zeros(spine.n, "int64")
    names = (
        "disabled_members",
        "severe_disability_members",
        "new_severe_disability_3m",
        "new_disability_12m",
        "disability_worsened_12m",
        "disability_subsidy_members",
    )
    c = disability_certificates
    if c.empty:
        return pd.DataFrame({n: zeros for n in names})
    h = certificate_history(c)
    h = h[h["event_date"].to_numpy() < np.datetime64(spine.as_of)]
    now = h.drop_duplicates("person_key", keep="last")
    now_hh = spine.household_of(now)
    holding = now["valid"].to_numpy()
    severe_now = holding & np.isin(now["grade"].to_numpy(), (1.0, 2.0))
    subsidy = holding & ((now["living_subsidy"].to_numpy() == "Y") | (now["care_subsidy"].to_numpy() == "Y"))
    grade, prev = h["grade"].to_numpy(), h["prev_grade"].to_numpy()
    became_severe = h["valid"].to_numpy() & (grade <= 2) & ~(prev <= 2)  # NaN prev: none held
    worsened = h["valid"].to_numpy() & (grade < prev)
    new = h["change_type"].to_numpy() == "new"
    w3, w12 = in_window(h, spine.as_of, 3), in_window(h, spine.as_of, 12)
    return pd.DataFrame(
        {
            "disabled_members": spine.total(now_hh[holding]).astype("int64"),
            "severe_disability_members": spine.total(now_hh[severe_now]).astype("int64"),
            "new_severe_disability_3m": spine.members_among(h[became_severe & w3]),
            "new_disability_12m": spine.members_among(h[new & w12]),
            "disability_worsened_12m": spine.members_among(h[worsened & w12]),
            "disability_subsidy_members": spine.total(now_hh[subsidy]).astype("int64"),
        }
    )
