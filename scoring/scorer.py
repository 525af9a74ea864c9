"""Score a feature snapshot with the champion: risk, tiers, reasons, actions, lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig
from scoring.exploration import draw_exploration, explore_slots, hidden_need_signal, interleave
from scoring.lists import due_dates, suggested_actions, visit_lists
from scoring.reasons import explain_reasons
from scoring.tiers import assign_tiers, new_triggers

GEOGRAPHY = ("county_code", "town_code", "village_code")
NO_SINGLE_REASON_ZH = "多项指标综合列入本月走访"
NO_SINGLE_REASON_EN = "listed this month on several indicators together"


class Scorer(Protocol):
    """What scoring needs of a model: calibrated risk and SHAP contributions."""

    @property
    def version(self) -> str | None: ...

    @property
    def feature_names(self) -> list[str]: ...

    def predict_risk(self, frame: pd.DataFrame) -> np.ndarray: ...

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Scored:
    """Every cohort household's score, and the visit list drawn from it."""

    scores: pd.DataFrame
    visit_list: pd.DataFrame
    explained: int


def explain(
    model: Scorer,
    frame: pd.DataFrame,
    cfg: ScoringConfig,
    typical: pd.Series | None = None,
    triggers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """reasons_zh, reasons_en and action_zh for the rows of ``frame``; ``typical``: the
    cohort's median of each feature (a reason must point the risky way from it)."""
    if frame.empty:
        return pd.DataFrame({"reasons_zh": [], "reasons_en": [], "action_zh": []}, dtype="str")
    contrib = model.contributions(frame)
    reasons = explain_reasons(contrib, frame, cfg.max_reasons, typical=typical)
    if triggers is None:
        triggers = new_triggers(frame, cfg)
    actions = suggested_actions(reasons.groups, triggers, cfg)
    return pd.DataFrame({"reasons_zh": reasons.zh, "reasons_en": reasons.en, "action_zh": actions})


def typical_values(cohort: pd.DataFrame, names: list[str]) -> pd.Series:
    """The cohort's median of each feature."""
    present = [n for n in names if n in cohort.columns]
    return cohort[present].astype("float64").median()


def score_snapshot(
    snapshot: pd.DataFrame,
    model: Scorer,
    cfg: ScoringConfig,
    previous: pd.DataFrame | None = None,
    ever_listed: pd.Series | None = None,
) -> Scored:
    """Score the cohort (households not already in 低保/特困) of one as-of date;
    ``previous``: the snapshot of the month before (only new hard triggers count);
    ``ever_listed``: household keys on any earlier month's list (exploration draws its fresh
    pool from the others, scoring.exploration)."""
    as_ofs = snapshot["as_of"].unique()
    if len(as_ofs) != 1:
        raise ValueError(f"score one as-of date at a time, got {len(as_ofs)}")
    as_of = pd.Timestamp(as_ofs[0])
    cohort = snapshot[snapshot["in_cohort"].to_numpy(bool)].reset_index(drop=True)
    risk = model.predict_risk(cohort) if len(cohort) else np.array([])
    tiers = assign_tiers(cohort, risk, cfg, previous)
    scores = pd.concat([cohort[["household_key", "as_of", *GEOGRAPHY]], tiers], axis=1)
    scores["model_version"] = str(model.version or "")
    chosen = scores["tier"].isin(cfg.explain_tiers).to_numpy()
    triggers = new_triggers(cohort, cfg, previous)
    text = explain(model, cohort[chosen], cfg, typical_values(cohort, model.feature_names), triggers[chosen])
    explained = int(chosen.sum())
    for column in ("reasons_zh", "reasons_en", "action_zh"):
        scores[column] = ""
        scores.loc[chosen, column] = text[column].to_numpy()
    scores["due_date"] = due_dates(as_of, scores["tier"], cfg)
    slots = explore_slots(cfg.town_capacity, cfg.exploration)
    ranked = visit_lists(scores, cfg.model_copy(update={"town_capacity": cfg.town_capacity - slots}))
    explored = draw_exploration(
        # one stratum when the snapshot has no urban/rural flag
        scores.assign(
            urban=cohort["urban"].to_numpy(bool) if "urban" in cohort else False,
            signal=hidden_need_signal(cohort) if cfg.exploration.signal_share > 0 else False,
        ),
        ranked["household_key"],
        ever_listed if ever_listed is not None else pd.Series(dtype="str"),
        as_of,
        cfg.town_capacity,
        cfg.exploration,
    ).drop(columns="urban")
    if len(explored):
        unexplained = ~explored["tier"].isin(cfg.explain_tiers).to_numpy()
        rows = cohort.set_index("household_key").loc[explored.loc[unexplained, "household_key"]].reset_index()
        extra = explain(model, rows, cfg, typical_values(cohort, model.feature_names))
        for column in ("reasons_zh", "reasons_en", "action_zh"):
            explored.loc[unexplained, column] = extra[column].to_numpy()
        # into the monthly round like any listed household (workers see no difference)
        explored.loc[~explored["tier"].isin(("red", "orange")).to_numpy(), "tier"] = "yellow"
        explored["due_date"] = due_dates(as_of, explored["tier"], cfg)
        explained += int(unexplained.sum())
    visit_list = interleave(ranked, explored, as_of, cfg.exploration.seed)
    # a listed household whose features point nowhere in particular still gets a reason to show
    none = (visit_list["reasons_zh"] == "").to_numpy()
    visit_list.loc[none, "reasons_zh"] = NO_SINGLE_REASON_ZH
    visit_list.loc[none, "reasons_en"] = NO_SINGLE_REASON_EN
    return Scored(scores, visit_list, explained)


def explain_household(
    snapshot: pd.DataFrame, household_key: str, model: Scorer, cfg: ScoringConfig
) -> dict[str, Any]:
    """One household on demand: its risk, every contribution and its reasons."""
    row = snapshot[snapshot["household_key"] == household_key]
    if row.empty:
        raise KeyError(f"household {household_key} is not in the snapshot")
    contrib = model.contributions(row).iloc[0]
    cohort = snapshot[snapshot["in_cohort"].to_numpy(bool)] if "in_cohort" in snapshot else snapshot
    text = explain(model, row, cfg, typical_values(cohort, model.feature_names)).iloc[0]
    top = contrib.drop("bias", errors="ignore").sort_values(ascending=False)
    return {
        "household_key": household_key,
        "risk": float(model.predict_risk(row)[0]),
        "reasons_zh": text["reasons_zh"],
        "reasons_en": text["reasons_en"],
        "action_zh": text["action_zh"],
        "contributions": {k: round(float(v), 5) for k, v in top.head(10).items()},
    }
