"""Reason texts a worker cannot misread: no capped ratio, no "0.0 倍", no "仅 0 名", no wage
without what it is compared with (issue 14's four misreadings), in Chinese and English."""

from __future__ import annotations

import re

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.catalogue import BY_NAME, FEATURE_NAMES, FEATURES
from scoring.config import ScoringConfig
from scoring.reasons import explain_reasons, reason_categories
from scoring.scorer import score_snapshot
from tests.unit.scoring.test_scoring import AS_OF, BoosterScorer

# the four misreadings, and their English twins
CAPPED_SHARE = re.compile(r"(占家庭可见收入|of visible income).*?\d{3,}%|\d{3,}% of visible income")
ZERO_TIMES = re.compile(r"\b0\.0 ?(倍|x)")
ONLY_ZERO = re.compile(r"仅 0 名|only 0 ")
BARE_WAGE = re.compile(r"(工资收入 [\d,]+ 元/月|wages [\d,]+ yuan a month)(?!.*(中位数|median))")


def misreadings(text: str) -> list[str]:
    return [rx.pattern for rx in (CAPPED_SHARE, ZERO_TIMES, ONLY_ZERO, BARE_WAGE) if rx.search(text)]


def _reasons(feature: str, typical: pd.Series | None = None, **values: float) -> tuple[str, str]:
    """The reason of one household whose only risk-raising contribution is ``feature``."""
    row = {f.name: 0.0 for f in FEATURES} | values
    frame = pd.DataFrame([row])
    contributions = pd.DataFrame([{f.name: 0.0 for f in FEATURES} | {feature: 1.0}])
    reasons = explain_reasons(contributions, frame, max_reasons=1, typical=typical)
    return reasons.zh.iloc[0], reasons.en.iloc[0]


def test_no_working_age_member_is_said_so_not_only_zero():
    assert _reasons("working_age", working_age=0) == ("家中无劳动年龄成员", "no working-age member")
    assert _reasons("working_age", working_age=1)[0] == "劳动年龄成员仅 1 名"
    zh, _ = _reasons("dependency_ratio", working_age=0, dependency_ratio=3, elderly=2, children=1)
    assert zh.startswith("家中无劳动年龄成员") and "每名劳动年龄成员" not in zh
    assert _reasons("earners", earners=0)[0].startswith("家中无人有工资性收入")


def test_zero_visible_income_is_no_income_not_zero_times_the_line():
    zh, en = _reasons("income_ratio_to_dibao", income_ratio_to_dibao=0.0, visible_income_per_capita=0.0)
    assert zh.startswith("家庭无可见收入") and en.startswith("no visible income")
    tiny, _ = _reasons("income_ratio_to_dibao", income_ratio_to_dibao=0.03, visible_income_per_capita=33)
    assert tiny == "人均可见收入 33 元/月，不到当地低保标准的一成"
    below, _ = _reasons("income_ratio_to_dibao", income_ratio_to_dibao=0.96, visible_income_per_capita=1056)
    assert below == "人均可见收入 1,056 元/月，低于当地低保标准（为标准的 96%）"  # not "1.0 倍"
    above, _ = _reasons("income_ratio_to_dibao", income_ratio_to_dibao=1.26, visible_income_per_capita=1386)
    assert above.endswith("为当地低保标准的 1.3 倍")
    edge, _ = _reasons("income_ratio_to_edge", income_ratio_to_edge=0.0, visible_income_per_capita=0.0)
    assert edge.startswith("家庭无可见收入")


def test_a_capped_medical_share_is_more_than_the_income_or_no_income():
    zh, en = _reasons(
        "oop_medical_6m_share", oop_medical_6m=38200, oop_medical_6m_share=10.0, visible_income=0
    )
    assert zh == "近6个月医疗自付 38,200 元，家庭无可见收入" and "%" not in en
    zh, _ = _reasons(
        "oop_medical_12m_share", oop_medical_12m=52000, oop_medical_12m_share=2.4, visible_income=1800
    )
    assert zh == "近12个月医疗自付 52,000 元，超过家庭同期可见收入"
    zh, _ = _reasons(
        "oop_medical_6m_share", oop_medical_6m=38200, oop_medical_6m_share=0.64, visible_income=9950
    )
    assert zh == "近6个月医疗自付 38,200 元，占家庭可见收入 64%"


def test_a_wage_is_shown_only_next_to_the_local_median():
    typical = pd.Series({"wage_income": 4800.0})
    zh, en = _reasons("wage_income", typical=typical, wage_income=2100)
    assert zh == "家庭可见工资收入 2,100 元/月，低于本地家庭中位数 4,800 元/月"
    assert "below the local median of 4,800" in en
    assert _reasons("wage_income", wage_income=2100)[0] == "家庭可见工资收入偏低"  # nothing to compare
    assert _reasons("wage_income", typical=typical, wage_income=0)[0].startswith("家中无可见工资收入")


def test_an_unknown_value_gives_no_reason_rather_than_the_features_meaning():
    zh, en = _reasons("months_since_admitted", months_since_admitted=float("nan"))
    assert (zh, en) == ("", "")
    assert _reasons("months_since_admitted", months_since_admitted=0.0)[0] == "刚被认定救助（不足1个月）"


def test_codes_are_said_in_words():
    assert _reasons("house_grade", house_grade=4)[0] == "住房经鉴定为D级整幢危房"
    assert _reasons("assistance_category", assistance_category=1)[0] == "已在低保边缘名单上"


def test_every_case_of_the_catalogue_parses_and_renders():
    for feature in FEATURES:
        for case in feature.reason_cases:
            for field, _op, _n in case.conditions:
                assert field in BY_NAME or field.removeprefix("typical_") in BY_NAME, (feature.name, field)


def test_reason_categories_name_the_group_of_each_reason_without_its_numbers():
    texts = pd.Series(["近6个月医疗自付 38,200 元，家庭无可见收入；家中无劳动年龄成员", "", "某种新说法"])
    assert reason_categories(texts).tolist() == [("医疗负担", "家庭结构"), (), ("其他",)]


def _pathological_region(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """A small region where the misreadings would show: a fifth of households with no visible
    income (capped shares), some with no working-age member, low wages."""
    rng = np.random.default_rng(seed)
    data = {f.name: np.zeros(n) for f in FEATURES}
    data["members"] = rng.integers(1, 6, n).astype(float)
    no_income = rng.random(n) < 0.2
    data["wage_income"] = np.where(no_income, 0.0, rng.gamma(3, 1500, n))
    data["visible_income"] = data["wage_income"]
    data["visible_income_per_capita"] = data["visible_income"] / data["members"]
    data["income_ratio_to_dibao"] = data["visible_income_per_capita"] / 1100
    data["income_ratio_to_edge"] = data["income_ratio_to_dibao"] / 1.5
    data["working_age"] = np.where(rng.random(n) < 0.15, 0.0, rng.integers(1, 3, n).astype(float))
    data["earners"] = np.where(no_income, 0.0, np.minimum(data["working_age"], 1))
    sick = rng.random(n) < 0.3
    data["oop_medical_6m"] = np.where(sick, rng.gamma(2, 9000, n), 0.0)
    income6 = 6 * data["visible_income"]
    share = np.where(income6 > 0, data["oop_medical_6m"] / np.maximum(income6, 1), 10.0)
    data["oop_medical_6m_share"] = np.where(data["oop_medical_6m"] > 0, np.minimum(share, 10.0), 0.0)
    frame = pd.DataFrame(data)
    logit = -2.5 - 1.2 * np.log1p(frame["income_ratio_to_dibao"] * 5) + frame["oop_medical_6m_share"] / 2
    logit += 1.0 * (frame["working_age"] == 0) - frame["wage_income"] / 4000
    frame["_y"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame.insert(0, "household_key", [f"hh{i:05d}" for i in range(n)])
    frame.insert(1, "as_of", AS_OF)
    frame.insert(2, "village_code", np.array(["330502001001", "330502001002"])[rng.integers(0, 2, n)])
    frame.insert(2, "town_code", frame["village_code"].str[:9])
    frame.insert(2, "county_code", frame["village_code"].str[:6])
    frame["in_cohort"] = True
    return frame


@pytest.fixture(scope="module")
def scored_region():
    frame = _pathological_region()
    train = lgb.Dataset(frame[FEATURE_NAMES].astype("float64"), frame["_y"].astype(int))
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 1, "deterministic": True}
    booster = lgb.train(params, train, num_boost_round=60)
    return score_snapshot(frame.drop(columns="_y"), BoosterScorer(booster), ScoringConfig()).scores


def test_a_scored_region_has_none_of_the_four_misreadings_in_any_row(scored_region):
    explained = scored_region[scored_region["reasons_zh"] != ""]
    assert len(explained) > 100
    bad = {
        t: m for t in pd.concat([explained["reasons_zh"], explained["reasons_en"]]) if (m := misreadings(t))
    }
    assert not bad, list(bad.items())[:5]
    meanings = {f.meaning_zh for f in FEATURES}
    assert not {p for t in explained["reasons_zh"] for p in t.split("；")} & meanings
    # the wordings that replace them do appear: the region has such households
    joined = "\n".join(explained["reasons_zh"])
    assert "家庭无可见收入" in joined or "家中无劳动年龄成员" in joined
