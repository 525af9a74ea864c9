"""Training on a synthetic region with a planted signal: behaviour, not implementation."""

import numpy as np
import pandas as pd
import pytest

from models.config import LightGBMConfig, ModelConfig, SplitConfig
from models.train import MODEL, train_risk_model
from tests.unit.models.synthetic import FEATURES, make_snapshots

CFG = ModelConfig(
    visit_capacity=50,
    lightgbm=LightGBMConfig(num_threads=1),
    splits=SplitConfig(train_months=None, test_months=2),
)


@pytest.fixture(scope="module")
def data():
    return make_snapshots(households=3_000, months=30, seed=11)


@pytest.fixture(scope="module")
def result(data):
    snapshots, truth = data
    return train_risk_model(snapshots, FEATURES, CFG, horizon=6, truth=truth)


def test_the_model_beats_the_single_feature_baseline_on_the_test_window(result):
    m = result.metrics
    assert m["roc_auc"] > m["baseline.income_ratio.roc_auc"] + 0.03
    assert m[f"{MODEL}.precision_at_top5pct"] > m["baseline.income_ratio.precision_at_top5pct"]
    assert m["precision_at_k"] > m["best_rule_precision_at_k"]


def test_windows_follow_the_split_and_only_cohort_rows_with_complete_labels_are_used(result, data):
    snapshots, _ = data
    assert result.windows["train"]["as_of"].max() < result.windows["validation"]["as_of"].min()
    for frame in result.windows.values():
        assert frame["in_cohort"].all() and frame["label_complete"].all()
    assert result.windows["test"]["as_of"].max() == snapshots.loc[snapshots["label_complete"], "as_of"].max()


def test_truth_is_used_for_evaluation_only(result):
    assert not {"latent_fall", "p_fall"} & set(result.model.feature_names)
    assert 0 < result.metrics["oracle_share_at_k"] <= 1.05
    assert "latent.model.precision_at_k" in result.metrics


def test_calibrated_risk_matches_the_observed_rate(result):
    m = result.metrics
    assert abs(m["mean_risk"] - m["observed_rate"]) < 0.02
    assert m["ece"] < 0.03


def test_a_shock_raises_risk(result):
    test = result.windows["test"]
    before = result.model.predict_risk(test)
    shocked = test.assign(earner_died_6m=1, income_ratio_to_dibao=test["income_ratio_to_dibao"] * 0.6)
    after = result.model.predict_risk(shocked)
    assert (after >= before - 1e-9).mean() > 0.95 and after.mean() > 1.5 * before.mean()


def test_rule_baselines_tie_and_report_worst_and_best(result):
    m = result.metrics
    assert m["baseline.rules_any.precision_at_k_worst"] < m["baseline.rules_any.precision_at_k_best"]


def test_with_as_many_visits_as_the_rules_flag_the_model_finds_more(result):
    m = result.metrics
    assert m["baseline.rules_any.flagged_per_month"] > 0
    assert m["precision_at_rules_flagged"] > m["baseline.rules_any.precision_flagged"]


def test_group_table_covers_every_county_urban_and_household_type(result):
    g = result.groups
    assert set(g["group"]) == {"county_code", "urban", "household_type"}
    assert g["recall_ratio"].notna().all()


def test_contributions_add_up_to_the_raw_log_odds(result):
    test = result.windows["test"].head(50)
    contrib = result.model.contributions(test)
    raw = result.model.raw_score(test)
    assert np.allclose(contrib.sum(axis=1), np.log(raw / (1 - raw)), atol=1e-6)


def test_too_short_a_history_fails_loudly():
    snapshots, _ = make_snapshots(households=200, months=14, seed=1)
    with pytest.raises(ValueError, match="snapshot"):
        train_risk_model(snapshots, FEATURES, CFG, horizon=6)


def test_missing_features_fail_loudly(data):
    snapshots, _ = data
    with pytest.raises(KeyError, match="income_change_6m"):
        train_risk_model(snapshots.drop(columns="income_change_6m"), FEATURES, CFG, horizon=6)


def test_pandas_nullable_and_bool_feature_columns_are_accepted(result):
    test = result.windows["test"].head(20)
    nullable = test.astype({"members": "Int64", "house_grade_d": "boolean"})
    assert np.allclose(result.model.predict_risk(nullable), result.model.predict_risk(test))
    assert isinstance(test["as_of"].iloc[0], pd.Timestamp)
