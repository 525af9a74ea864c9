"""Warning tiers: hard triggers make a household red; otherwise its rank of calibrated risk
among the cohort (top 1% red, 1-5% orange, 5-10% yellow, the rest blue), and unemployment
together with chronic illness makes it at least orange (shared/domain.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig

TIERS = ("red", "orange", "yellow", "blue")
TIER_ZH = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
# the snapshot columns the hard triggers read (a previous month's snapshot needs only these)
TRIGGER_FEATURES = (
    "earner_died_6m",
    "new_severe_disability_3m",
    "oop_medical_12m_to_local_income",
    "house_grade_d",
)
TRIGGER_ZH = {
    "earner_died": "有收入成员去世",
    "new_severe_disability": "新增重度残疾",
    "catastrophic_medical": "医疗自付超过上年当地人均可支配收入",
    "house_grade_d": "住房鉴定为D级危房",
}


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].astype("float64").fillna(0).to_numpy() if name in frame else np.zeros(len(frame))


def hard_triggers(frame: pd.DataFrame, cfg: ScoringConfig) -> pd.DataFrame:
    """One boolean column per hard trigger."""
    t = cfg.hard_triggers
    return pd.DataFrame(
        {
            "earner_died": t.earner_died & (_column(frame, "earner_died_6m") > 0),
            "new_severe_disability": t.new_severe_disability
            & (_column(frame, "new_severe_disability_3m") > 0),
            "catastrophic_medical": _column(frame, "oop_medical_12m_to_local_income")
            >= t.catastrophic_oop_ratio,
            "house_grade_d": t.house_grade_d & (_column(frame, "house_grade_d") > 0),
        },
        index=frame.index,
    )


def new_triggers(
    frame: pd.DataFrame, cfg: ScoringConfig, previous: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Hard triggers that hold now and did not hold at the previous as-of date (a household
    graded D, bereaved or newly disabled is red the month it happens, not for every month its
    window still covers). Without a previous snapshot, every trigger that holds is new."""
    now = hard_triggers(frame, cfg)
    if previous is None or previous.empty:
        return now
    before = hard_triggers(previous, cfg).set_axis(previous["household_key"].to_numpy())
    before = before[~before.index.duplicated()].reindex(frame["household_key"].to_numpy(), fill_value=False)
    return now & ~before.to_numpy()


def trigger_text(triggers: pd.DataFrame) -> pd.Series:
    """The hard triggers of each household as Chinese labels joined by '；' ('' for none)."""
    text = pd.Series("", index=triggers.index, dtype="str")
    for name, label in TRIGGER_ZH.items():
        hit = triggers[name].to_numpy()
        text[hit] = np.where(text[hit] == "", label, text[hit] + "；" + label)
    return text


def risk_rank(risk: np.ndarray, keys: pd.Series) -> np.ndarray:
    """1-based rank by risk, highest first; ties broken by household key (deterministic)."""
    order = np.lexsort((keys.to_numpy(dtype="str"), -risk))
    rank = np.empty(len(risk), dtype=np.int64)
    rank[order] = np.arange(1, len(risk) + 1)
    return rank


def assign_tiers(
    frame: pd.DataFrame, risk: np.ndarray, cfg: ScoringConfig, previous: pd.DataFrame | None = None
) -> pd.DataFrame:
    """tier, rank and hard-trigger text for every cohort household of ``frame`` (``previous``:
    the snapshot of the month before, so that only new hard triggers count)."""
    n = len(frame)
    rank = risk_rank(risk, frame["household_key"])
    share = rank / max(n, 1)
    tier = np.select(
        [share <= cfg.tier_shares.red, share <= cfg.tier_shares.orange, share <= cfg.tier_shares.yellow],
        ["red", "orange", "yellow"],
        "blue",
    ).astype(object)
    unemployed = (_column(frame, "newly_unemployed_3m") + _column(frame, "unemployed_members")) > 0
    chronic = _column(frame, "chronic_ill_members") > 0
    tier[(unemployed & chronic) & np.isin(tier, ["yellow", "blue"])] = "orange"
    triggers = new_triggers(frame, cfg, previous)
    tier[triggers.any(axis=1).to_numpy()] = "red"
    return pd.DataFrame(
        {"risk": risk, "risk_rank": rank, "tier": tier, "hard_triggers": trigger_text(triggers)},
        index=frame.index,
    )
