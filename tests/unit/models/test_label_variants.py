"""Labels from visits, weighted by 1 / listing probability: two models on the same split."""

import numpy as np
import pandas as pd
import pytest

from models.config import LightGBMConfig, ModelConfig, SplitConfig
from models.schema import labelled_cohort
from models.train import (
    OBSERVABLE,
    WITH_VISITS,
    sample_training_rows,
    train_risk_model,
    variant_rows,
)
from tests.unit.models.synthetic import FEATURES, make_snapshots, with_field_visits

CFG = ModelConfig(
    visit_capacity=50,
    lightgbm=LightGBMConfig(num_threads=1),
    splits=SplitConfig(train_months=None, test_months=2),
)


@pytest.fixture(scope="module")
def plain():
    return make_snapshots(households=2_500, months=30, seed=5)


@pytest.fixture(scope="module")
def visited(plain):
    snapshots, truth = plain
    return with_field_visits(snapshots, truth, listed=50, explored=50, seed=3), truth


@pytest.fixture(scope="module")
def both(visited):
    snapshots, truth = visited
    return train_risk_model(snapshots, FEATURES, CFG, horizon=6, truth=truth)


def test_a_visited_row_survives_negative_sampling_and_carries_1_over_p(visited):
    snapshots, _ = visited
    cohort = labelled_cohort(snapshots)
    cfg = CFG.model_copy(update={"negatives_per_positive": 1.0})  # drop most negatives
    sampled = sample_training_rows(cohort, cfg)
    seen = cohort["visit_label"].notna()
    negatives_visited = seen & ~cohort["label"]
    assert negatives_visited.sum() > 100
    kept = sampled["visit_label"].notna()
    assert kept.sum() == seen.sum()  # every visited row kept, confirmed or not
    assert (sampled.loc[kept, "weight"] == 1.0).all()  # kept for certain: sampling weight 1
    assert len(sampled) < 0.5 * len(cohort)  # the others were sampled
    rows = variant_rows(sampled, WITH_VISITS)
    explored = kept & (sampled["visit_weight"] > 1)
    assert explored.sum() > 0
    # 1/p where the visit found hardship the applications miss; 1 where it agrees with them
    hidden = (
        explored & sampled["visit_label"].fillna(False).astype(bool) & ~sampled["label_applied"].astype(bool)
    )
    assert hidden.sum() > 0 and (explored & ~hidden).sum() > 0
    np.testing.assert_allclose(rows.loc[hidden, "weight"], sampled.loc[hidden, "visit_weight"])
    np.testing.assert_allclose(rows.loc[explored & ~hidden, "weight"], 1.0)
    capped = variant_rows(sampled, WITH_VISITS, cap=2.0)
    np.testing.assert_allclose(
        capped.loc[hidden, "weight"], np.minimum(sampled.loc[hidden, "visit_weight"], 2.0)
    )
    unvisited = ~kept
    np.testing.assert_allclose(rows.loc[unvisited, "weight"], sampled.loc[unvisited, "weight"])
    observable = variant_rows(sampled, OBSERVABLE)
    np.testing.assert_allclose(observable["weight"], sampled["weight"])  # no visit weight
    assert (observable["label"] == sampled["label_applied"].astype(bool)).all()


def test_with_visit_labels_both_models_are_fitted_and_differ(both):
    assert both.info["label_variants"] == "observable,with_visits"
    assert both.info["label_variants_identical"] is False
    obs, vis = both.variants["observable"], both.variants["with_visits"]
    assert obs["roc_auc"] != vis["roc_auc"]
    assert both.info["visit_labels_train"] > 0 and both.info["explored_visits_train"] > 0
    for name in ("observable", "with_visits"):
        assert (
            f"{name}.precision_at_k" in both.metrics and f"{name}.latent.model.precision_at_k" in both.metrics
        )


def test_both_are_judged_on_the_same_window_and_label_and_the_better_is_kept(both):
    obs, vis = both.variants["observable"], both.variants["with_visits"]
    # the same test rows and the same label: the observed rate is one number
    assert obs["observed_rate"] == vis["observed_rate"] == both.metrics["observed_rate"]
    best = max(("observable", "with_visits"), key=lambda n: both.variants[n]["precision_at_k"])
    if obs["precision_at_k"] == vis["precision_at_k"]:
        best = "observable"
    assert both.info["label_variant"] == best
    assert both.metrics["precision_at_k"] == both.variants[best]["precision_at_k"]
    assert both.metrics[f"{best}.precision_at_k"] == both.metrics["precision_at_k"]


def test_without_any_visit_label_the_variants_are_identical_and_trained_once(plain):
    snapshots, _ = plain
    result = train_risk_model(snapshots, FEATURES, CFG, horizon=6)
    assert result.info["label_variants_identical"] is True
    assert result.info["label_variants"] == "observable" and result.info["label_variant"] == "observable"
    assert list(result.variants) == ["observable"]
    assert result.info["visit_labels_train"] == 0


def test_visit_labels_off_trains_the_observable_model_only(visited):
    snapshots, _ = visited
    result = train_risk_model(snapshots, FEATURES, CFG.model_copy(update={"visit_labels": False}), horizon=6)
    assert list(result.variants) == ["observable"] and result.info["label_variants_identical"] is False
    train = result.windows["train"]
    assert (train["label"] == train["label_applied"].astype(bool)).all()
    assert "with_visits.precision_at_k" not in result.metrics


def test_an_old_snapshot_without_the_applied_label_fails_loudly(plain):
    snapshots, _ = plain
    with pytest.raises(KeyError, match="label_applied"):
        train_risk_model(snapshots.drop(columns="label_applied"), FEATURES, CFG, horizon=6)


def test_the_kept_variants_training_rows_are_logged_with_its_label(both):
    train = both.windows["train"]
    want = "label_applied" if both.info["label_variant"] == "observable" else "label"
    assert (train["label"] == train[want].fillna(False).astype(bool)).all()
    assert isinstance(train["as_of"].iloc[0], pd.Timestamp)


def test_both_variants_are_logged_side_by_side_and_the_card_names_the_kept_one(both, tmp_path):
    import mlflow

    from models import registry
    from models.card import model_card
    from models.tracking import log_training

    cfg = CFG.model_copy(update={"shap_rows": 200})
    logged = log_training(both, cfg, tmp_path, horizon=6)
    run = mlflow.get_run(logged.run_id)
    kept = both.info["label_variant"]
    assert run.data.tags["label_variant"] == kept and run.data.tags["label_variants_identical"] == "false"
    for name in ("observable", "with_visits"):
        assert run.data.metrics[f"{name}.precision_at_k"] == pytest.approx(
            both.variants[name]["precision_at_k"]
        )
    assert len(run.data.metrics) <= 30
    tables = mlflow.artifacts.load_dict(f"runs:/{logged.run_id}/metrics/label_variants.json")
    assert set(tables) == {"observable", "with_visits"} and len(tables["with_visits"]) > 100
    version = mlflow.tracking.MlflowClient().get_model_version(cfg.name, logged.version)
    assert version.tags["label_variant"] == kept
    card = model_card(both, cfg, 6, {})
    section = card.split("## Label variant", 1)[1].split("\n## ", 1)[0]
    assert f"**{kept}** variant" in section and "(kept)" in section and "with_visits" in section
    assert f"{both.info['visit_labels_train']:,}" in section and "never decides" in section
    decision = registry.register_challenger(
        cfg, tmp_path, logged.version, logged.run_id, both.metrics["precision_at_k"], both.windows["test"]
    )
    assert decision.promote and decision.challenger_metric == both.variants[kept]["precision_at_k"]


def test_the_card_says_when_the_variants_were_one_model(plain):
    from models.card import model_card

    snapshots, _ = plain
    result = train_risk_model(snapshots, FEATURES, CFG, horizon=6)
    section = model_card(result, CFG, 6, {}).split("## Label variant", 1)[1].split("\n## ", 1)[0]
    assert "trained once" in section and "**observable** variant" in section and "never decides" in section
