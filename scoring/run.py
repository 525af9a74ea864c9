"""Score a feature snapshot with the champion: risk, tiers, reasons, actions, lists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig
from scoring.lists import due_dates, suggested_actions, visit_lists
from scoring.reasons import explain_reasons
from scoring.tiers import assign_tiers, hard_triggers

GEOGRAPHY = ("county_code", "town_code", "village_code")


class Scorer:
    """What scoring needs of a model: calibrated risk and SHAP contributions."""

    version: str | None
    feature_names: list[str]

    def predict_risk(self, frame: pd.DataFrame) -> np.ndarray: ...

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Scored:
    """Every cohort household's score, and the visit list drawn from it."""

    scores: pd.DataFrame
    visit_list: pd.DataFrame
    explained: int


def explain(model: Scorer, frame: pd.DataFrame, cfg: ScoringConfig) -> pd.DataFrame:
    """reasons_zh, reasons_en and action_zh for the rows of ``frame``."""
    if frame.empty:
        return pd.DataFrame({"reasons_zh": [], "reasons_en": [], "action_zh": []}, dtype="str")
    contrib = model.contributions(frame)
    reasons = explain_reasons(contrib, frame, cfg.max_reasons)
    actions = suggested_actions(reasons.groups, hard_triggers(frame, cfg), cfg)
    return pd.DataFrame({"reasons_zh": reasons.zh, "reasons_en": reasons.en, "action_zh": actions})


def score_snapshot(snapshot: pd.DataFrame, model: Scorer, cfg: ScoringConfig) -> Scored:
    """Score the cohort (households not already in 低保/特困) of one as-of date."""
    as_ofs = snapshot["as_of"].unique()
    if len(as_ofs) != 1:
        raise ValueError(f"score one as-of date at a time, got {len(as_ofs)}")
    as_of = pd.Timestamp(as_ofs[0])
    cohort = snapshot[snapshot["in_cohort"].to_numpy(bool)].reset_index(drop=True)
    risk = model.predict_risk(cohort) if len(cohort) else np.array([])
    tiers = assign_tiers(cohort, risk, cfg)
    scores = pd.concat([cohort[["household_key", "as_of", *GEOGRAPHY]], tiers], axis=1)
    scores["model_version"] = str(model.version or "")
    chosen = scores["tier"].isin(cfg.explain_tiers).to_numpy()
    text = explain(model, cohort[chosen], cfg)
    for column in ("reasons_zh", "reasons_en", "action_zh"):
        scores[column] = ""
        scores.loc[chosen, column] = text[column].to_numpy()
    scores["due_date"] = due_dates(as_of, scores["tier"], cfg)
    return Scored(scores, visit_lists(scores, cfg), int(chosen.sum()))


def explain_household(snapshot: pd.DataFrame, household_key: str, model: Scorer, cfg: ScoringConfig) -> dict:
    """One household on demand: its risk, every contribution and its reasons."""
    row = snapshot[snapshot["household_key"] == household_key]
    if row.empty:
        raise KeyError(f"household {household_key} is not in the snapshot")
    contrib = model.contributions(row).iloc[0]
    text = explain(model, row, cfg).iloc[0]
    top = contrib.drop("bias", errors="ignore").sort_values(ascending=False)
    return {
        "household_key": household_key,
        "risk": float(model.predict_risk(row)[0]),
        "reasons_zh": text["reasons_zh"],
        "reasons_en": text["reasons_en"],
        "action_zh": text["action_zh"],
        "contributions": {k: round(float(v), 5) for k, v in top.head(10).items()},
    }
