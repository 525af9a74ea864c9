"""Scoring on a real (small) LightGBM model: tiers, reasons, actions, due dates, lists."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.catalogue import FEATURE_NAMES, FEATURES
from scoring.config import Exploration, ScoringConfig
from scoring.lists import due_dates
from scoring.scorer import explain_household, score_snapshot
from scoring.tiers import assign_tiers

AS_OF = pd.Timestamp("2024-06-01")  # a Saturday


class BoosterScorer:
    """A trained LightGBM booster used as it is: risk = its probability, SHAP = pred_contrib."""

    version = "7"

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        self.feature_names = FEATURE_NAMES

    def predict_risk(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(frame[self.feature_names].astype("float64"))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        c = self.booster.predict(frame[self.feature_names].astype("float64"), pred_contrib=True)
        return pd.DataFrame(c, columns=[*self.feature_names, "bias"], index=frame.index)


def _snapshot(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f.name: np.zeros(n) for f in FEATURES}
    data["members"] = rng.integers(1, 6, n).astype(float)
    data["visible_income_per_capita"] = rng.gamma(4, 600, n)
    data["income_ratio_to_dibao"] = data["visible_income_per_capita"] / 1100
    data["oop_medical_12m"] = np.where(rng.random(n) < 0.2, rng.gamma(2, 8000, n), 0.0)
    data["oop_medical_12m_share"] = data["oop_medical_12m"] / (12 * data["visible_income_per_capita"] * 2)
    data["oop_medical_12m_to_local_income"] = data["oop_medical_12m"] / 65000
    data["newly_unemployed_3m"] = (rng.random(n) < 0.05).astype(float)
    frame = pd.DataFrame(data)
    logit = -3 - 1.5 * np.log(frame["income_ratio_to_dibao"]) + frame["oop_medical_12m"] / 10000
    logit += 1.5 * frame["newly_unemployed_3m"]
    frame["_y"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame.insert(0, "household_key", [f"hh{i:05d}" for i in range(n)])
    frame.insert(1, "as_of", AS_OF)
    villages = np.array(["330502001001", "330502001002", "330502002001"])
    frame.insert(2, "village_code", villages[rng.integers(0, 3, n)])
    frame.insert(2, "town_code", frame["village_code"].str[:9])
    frame.insert(2, "county_code", frame["village_code"].str[:6])
    frame["urban"] = frame["village_code"].str.endswith("2001")
    frame["in_cohort"] = rng.random(n) > 0.05
    return frame


@pytest.fixture(scope="module")
def model_and_snapshot():
    frame = _snapshot()
    train = lgb.Dataset(frame[FEATURE_NAMES].astype("float64"), frame["_y"].astype(int))
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 1, "deterministic": True}
    booster = lgb.train(params, train, num_boost_round=60)
    return BoosterScorer(booster), frame.drop(columns="_y")


def test_only_the_cohort_is_scored_and_every_tier_above_blue_is_explained(model_and_snapshot):
    model, snap = model_and_snapshot
    scored = score_snapshot(snap, model, ScoringConfig(exploration=Exploration(share=0)))
    s = scored.scores
    assert len(s) == int(snap["in_cohort"].sum())
    assert not set(s["household_key"]) & set(snap.loc[~snap["in_cohort"], "household_key"])
    above = s["tier"] != "blue"
    assert scored.explained == int(above.sum()) > 0
    assert (s.loc[above, "reasons_zh"] != "").all() and (s.loc[~above, "reasons_zh"] == "").all()
    assert s["model_version"].eq("7").all()


def test_reasons_raise_risk_merge_by_group_and_carry_the_households_numbers(model_and_snapshot):
    model, snap = model_and_snapshot
    cfg = ScoringConfig()
    s = score_snapshot(snap, model, cfg).scores.set_index("household_key")
    explained = s[s["reasons_zh"] != ""]
    counts = explained["reasons_zh"].str.split("；").str.len()
    assert counts.max() <= cfg.max_reasons
    medical = explained[explained["reasons_zh"].str.contains("医疗自付")]
    assert len(medical) > 0
    # the number in the reason is the household's own out-of-pocket cost
    key = medical.index[0]
    oop = snap.set_index("household_key").loc[key]
    texts = medical.loc[key, "reasons_zh"].split("；")
    assert sum("医疗自付" in t for t in texts) == 1  # medical features merged into one reason
    medical_text = next(t for t in texts if "医疗自付" in t)
    shown = [f"{oop[c]:,.0f}" for c in ("oop_medical_3m", "oop_medical_6m", "oop_medical_12m")]
    assert any(v in medical_text for v in shown)
    contrib = model.contributions(snap.set_index("household_key").loc[[key]].reset_index())
    medical_features = [f.name for f in FEATURES if f.group == "medical"]
    assert contrib[medical_features].clip(lower=0).sum(axis=1).iloc[0] > 0
    first_medical = medical[medical["reasons_zh"].str.split("；").str[0].str.contains("医疗自付")]
    first_medical = first_medical[first_medical["hard_triggers"] == ""]
    assert len(first_medical) and first_medical["action_zh"].str.startswith("医疗救助").all()


def test_a_hard_trigger_makes_a_household_red_whatever_its_score():
    cfg = ScoringConfig()
    frame = pd.DataFrame({f: np.zeros(200) for f in FEATURE_NAMES})
    frame["household_key"] = [f"k{i:03d}" for i in range(200)]
    frame.loc[150, "house_grade_d"] = 1
    frame.loc[151, "earner_died_6m"] = 1
    frame.loc[152, "oop_medical_12m_to_local_income"] = 1.2
    risk = np.linspace(0.5, 0.001, 200)  # 150-152 rank low
    t = assign_tiers(frame, risk, cfg)
    assert list(t.loc[[150, 151, 152], "tier"]) == ["red"] * 3
    assert "D级危房" in t.loc[150, "hard_triggers"] and "去世" in t.loc[151, "hard_triggers"]
    assert t.loc[0, "tier"] == "red" and t.loc[1, "tier"] == "red"  # top 1% of 200
    assert t.loc[2, "tier"] == "orange" and t.loc[15, "tier"] == "yellow" and t.loc[60, "tier"] == "blue"


def test_ties_in_risk_rank_deterministically_by_household_key():
    frame = pd.DataFrame({"household_key": ["b", "a", "c"]})
    t = assign_tiers(frame, np.array([0.3, 0.3, 0.1]), ScoringConfig())
    assert list(t["risk_rank"]) == [2, 1, 3]


def test_due_dates_count_working_days_and_skip_holidays():
    cfg = ScoringConfig(holidays=["2024-06-10"])  # 端午节 (Monday)
    tiers = pd.Series(["red", "orange", "blue"])
    due = due_dates(AS_OF, tiers, cfg)
    # Sat 1 June: rolled to Mon 3 June, + 5 working days with Mon 10 June off = Tue 11 June
    assert due[0] == pd.Timestamp("2024-06-11")
    assert due[1] == pd.Timestamp("2024-06-18")
    assert pd.isna(due[2])


def test_visit_lists_keep_capacity_per_village_and_town_and_never_cut_red(model_and_snapshot):
    model, snap = model_and_snapshot
    cfg = ScoringConfig(village_capacity=2, town_capacity=5)
    scored = score_snapshot(snap, model, cfg)
    lst, s = scored.visit_list, scored.scores
    assert set(lst["household_key"]) >= set(s.loc[s["tier"] == "red", "household_key"])
    nonred = lst[lst["tier"] != "red"]
    assert ((nonred["rank_in_village"] <= 2) | (nonred["rank_in_town"] <= 5)).all()
    for _, town in lst.groupby("town_code"):
        ranks = town.sort_values("rank_in_town")
        order = ranks["tier"].map({"red": 0, "orange": 1, "yellow": 2}).to_numpy()
        assert (np.diff(order) >= 0).all()  # red first, then orange, then yellow


def test_one_household_is_explained_on_demand_in_well_under_a_second(model_and_snapshot):
    import time

    model, snap = model_and_snapshot
    key = snap.loc[snap["in_cohort"], "household_key"].iloc[0]
    started = time.perf_counter()
    out = explain_household(snap, key, model, ScoringConfig())
    assert time.perf_counter() - started < 1.0
    assert out["household_key"] == key and 0 <= out["risk"] <= 1 and len(out["contributions"]) == 10
