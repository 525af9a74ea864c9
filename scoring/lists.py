"""Suggested actions, due dates in working days, and ranked visit lists per village and
township within each one's monthly visit capacity (red households are never cut)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig
from scoring.tiers import TIERS

TIER_ORDER = {t: i for i, t in enumerate(TIERS)}


def suggested_actions(groups: pd.Series, triggers: pd.DataFrame, cfg: ScoringConfig) -> pd.Series:
    """Actions from the hard triggers first, then from the reasons' groups; distinct, at most
    ``max_actions``, joined by '、'."""
    trig = triggers.to_numpy()
    names = list(triggers.columns)
    out = []
    for i, reason_groups in enumerate(groups.to_numpy()):
        wanted = [names[j] for j in np.flatnonzero(trig[i])] + list(reason_groups)
        actions: list[str] = []
        for w in wanted:
            action = cfg.actions.get(w)
            if action and action not in actions:
                actions.append(action)
        out.append("、".join(actions[: cfg.max_actions]) or cfg.actions.get("income", ""))
    return pd.Series(out, index=groups.index, dtype="str")


def due_dates(as_of: pd.Timestamp, tiers: pd.Series, cfg: ScoringConfig) -> pd.Series:
    """The home-check deadline: ``due_working_days`` of the tier after the as-of date,
    skipping weekends and the configured public holidays (NaT for blue)."""
    days = tiers.map(cfg.due_working_days).astype("float64")
    due = pd.Series(pd.NaT, index=tiers.index, dtype="datetime64[s]")
    ok = days.notna().to_numpy()
    if ok.any():
        start = np.datetime64(as_of.date(), "D")
        holidays = np.array(cfg.holidays, dtype="datetime64[D]")
        offsets = days[ok].to_numpy(dtype=np.int64)
        due[ok] = np.busday_offset(start, offsets, roll="forward", holidays=holidays).astype("datetime64[s]")
    return due


def _rank_within(frame: pd.DataFrame, by: str) -> np.ndarray:
    order = frame.sort_values([by, "tier_order", "risk_rank"], kind="stable")
    rank = order.groupby(by, sort=False).cumcount().to_numpy() + 1
    out = np.empty(len(frame), dtype=np.int64)
    out[frame.index.get_indexer(order.index)] = rank
    return out


def visit_lists(scored: pd.DataFrame, cfg: ScoringConfig) -> pd.DataFrame:
    """Households above blue, ranked in their village and township (red first, then by risk);
    kept when within the village's or the township's capacity, or red."""
    listed = scored[scored["tier"] != "blue"].reset_index(drop=True)
    listed = listed.assign(tier_order=listed["tier"].map(TIER_ORDER).astype("int64"))
    listed["rank_in_village"] = _rank_within(listed, "village_code")
    listed["rank_in_town"] = _rank_within(listed, "town_code")
    red = (listed["tier"] == "red").to_numpy()
    listed["within_village_capacity"] = red | (listed["rank_in_village"] <= cfg.village_capacity).to_numpy()
    listed["within_town_capacity"] = red | (listed["rank_in_town"] <= cfg.town_capacity).to_numpy()
    keep = listed["within_village_capacity"] | listed["within_town_capacity"]
    out = listed[keep.to_numpy()].sort_values(["town_code", "rank_in_town"], kind="stable")
    return out.drop(columns="tier_order").reset_index(drop=True)
