"""Group gaps, the card's group table and the metric tables, on frames built by hand."""

import json
import math

import pandas as pd

from models.card import gap_tag, gaps_section, group_gaps, group_table, judge_groups, worst_group_ratio
from models.config import ModelConfig
from models.tracking import headline_metrics, json_safe, scorer_table

CFG = ModelConfig()  # group_recall_ratio_min 0.8, group_min_positives 20


def groups(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """(group, value, falls, recall ratio) → a frame shaped like models.evaluation.group_metrics."""
    frame = pd.DataFrame(rows, columns=["group", "value", "positives", "recall_ratio"])
    return frame.assign(
        rows=frame["positives"] * 50,
        selected=frame["positives"] * 0.3,
        recall_at_k=frame["recall_ratio"] * 0.2,
        precision_at_k=0.1,
    )[["group", "value", "rows", "positives", "selected", "recall_at_k", "precision_at_k", "recall_ratio"]]


GROUPS = groups(
    [
        ("county_code", "330502", 60, 1.10),
        ("county_code", "330503", 40, 0.25),  # a gap: enough falls, a quarter of the recall
        ("county_code", "330521", 5, 0.10),  # worse, but too few falls to judge
        ("urban", "False", 100, 0.71),
        ("urban", "True", 120, 1.20),
        ("household_type", "couple", 30, 0.80),  # at the ratio: not below
    ]
)


def test_a_group_below_the_ratio_with_enough_falls_is_flagged_and_a_small_group_is_not():
    flags = dict(zip(GROUPS["value"], judge_groups(GROUPS, CFG)["flag"], strict=True))
    assert flags == {
        "330502": "",
        "330503": "gap",
        "330521": "few falls",
        "False": "gap",
        "True": "",
        "couple": "",
    }
    assert list(group_gaps(GROUPS, CFG)["value"]) == ["330503", "False"]  # worst first


def test_the_gap_tag_lists_the_flagged_groups_worst_first_or_none():
    assert gap_tag(group_gaps(GROUPS, CFG)) == "county_code=330503:0.25;urban=False:0.71"
    healthy = GROUPS.loc[GROUPS["recall_ratio"] >= 0.8]
    assert gap_tag(group_gaps(healthy, CFG)) == "none"
    many = groups([("county_code", f"3305{i:02d}", 50, 0.5) for i in range(25)])
    assert gap_tag(group_gaps(many, CFG), limit=20).endswith(";+5 more")


def test_the_worst_judged_ratio_ignores_groups_with_too_few_falls():
    assert worst_group_ratio(GROUPS, CFG) == 0.25
    assert math.isnan(worst_group_ratio(GROUPS.loc[GROUPS["positives"] < 20], CFG))
    strict = CFG.model_copy(update={"group_min_positives": 1})
    assert worst_group_ratio(GROUPS, strict) == 0.10


def test_the_card_names_the_gaps_and_marks_them_in_the_group_table():
    section = gaps_section(GROUPS, CFG)
    assert "**county_code = 330503**: recall ratio 0.25" in section
    assert "**urban = False**: recall ratio 0.71" in section
    assert "330521" not in section and "2 flagged" in section
    assert gaps_section(GROUPS.loc[GROUPS["recall_ratio"] >= 0.8], CFG).endswith("None.")
    table = group_table(judge_groups(GROUPS, CFG)).splitlines()
    assert table[0].endswith("| flag |")
    row = {line.split(" | ")[1]: line for line in table[2:]}
    assert row["330503"].endswith("| **gap** |") and row["330521"].endswith("| few falls |")
    assert row["330502"].endswith("|  |")


def test_headline_metrics_are_few_and_carry_the_worst_group():
    metrics = {
        "precision_at_k": 0.08,
        "model.precision_at_k": 0.08,
        "baseline.logistic.precision_at_k": 0.07,
        "baseline.rule_earner_died.precision_at_k": 0.02,
        "precision_ratio_to_logistic": 0.08 / 0.07,
    }
    out = headline_metrics(metrics, GROUPS, CFG)
    assert out == {
        "precision_at_k": 0.08,
        "precision_ratio_to_logistic": 0.08 / 0.07,
        "baseline.logistic.precision_at_k": 0.07,
        "group_recall_ratio_min": 0.25,
        "group_gap_count": 2.0,
    }


def test_the_scorer_table_has_one_row_per_scorer_and_the_json_has_no_nan():
    metrics = {
        "latent.model.precision_at_k": 0.09,
        "model.precision_at_k": 0.08,
        "model.roc_auc": 0.73,
        "baseline.logistic.precision_at_k": 0.07,
        "baseline.logistic.roc_auc": float("nan"),
        "baseline.logistic.oracle_share_at_k": 0.44,
        "oracle_share_at_k": 0.41,  # the model's own, unprefixed
        "brier": 0.008,
    }
    table = scorer_table(metrics).set_index("scorer")
    assert list(table.index) == ["model", "latent.model", "baseline.logistic"]
    assert table.loc["model", "oracle_share_at_k"] == 0.41
    assert table.loc["baseline.logistic", "precision_at_k"] == 0.07
    assert "brier" not in table.columns
    text = json.dumps(json_safe(metrics), allow_nan=False)
    assert json.loads(text)["baseline.logistic.roc_auc"] is None
