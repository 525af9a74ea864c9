"""MLflow (real, on a temporary SQLite store): runs, registry aliases, promotion, rollback, privacy."""

import json
import re
import sqlite3

import numpy as np
import pytest

from lowinc.home import HomeLayout
from models import registry
from models.config import LightGBMConfig, ModelConfig, SplitConfig
from models.privacy import find_personal_data
from models.tracking import log_training
from models.train import train_risk_model
from tests.unit.models.synthetic import FEATURES, make_snapshots

CFG = ModelConfig(
    visit_capacity=50,
    lightgbm=LightGBMConfig(num_threads=1),
    splits=SplitConfig(train_months=None, test_months=2),
    shap_rows=300,
)
WEAK = [f for f in FEATURES if f.name in ("noise", "members")]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """v1 weak (first: champion), v2 strong (beats it: promoted), v3 weak again (waits)."""
    home = tmp_path_factory.mktemp("home")
    snapshots, truth = make_snapshots(households=2_000, months=30, seed=5)
    weak = train_risk_model(snapshots, WEAK, CFG, horizon=6, truth=truth)
    strong = train_risk_model(snapshots, FEATURES, CFG, horizon=6, truth=truth)
    steps = []
    for result in (weak, strong, weak):
        logged = log_training(result, CFG, home, horizon=6)
        decision = registry.register_challenger(
            CFG, home, logged.version, logged.run_id, result.metrics["precision_at_k"], result.windows["test"]
        )
        steps.append((logged, decision, registry.list_versions(CFG, home)))
    return home, snapshots, strong, steps


def aliases(rows):
    return {r["version"]: r["aliases"] for r in rows}


def test_the_first_model_becomes_champion(store):
    _, _, _, steps = store
    logged, decision, rows = steps[0]
    assert decision.promote and logged.version == "1"
    assert "champion" in aliases(rows)["1"]


def test_a_better_challenger_is_promoted_by_the_margin(store):
    _, _, _, steps = store
    _, decision, rows = steps[1]
    assert decision.promote and decision.challenger_metric >= decision.champion_metric + CFG.promotion_margin
    assert aliases(rows)["2"] == ["champion"] and aliases(rows)["1"] == []


def test_a_worse_challenger_is_not_promoted_and_waits_as_challenger(store):
    _, _, _, steps = store
    _, decision, rows = steps[2]
    assert not decision.promote and "lowinc model promote" in decision.reason
    assert aliases(rows)["3"] == ["challenger"] and aliases(rows)["2"] == ["champion"]


def test_load_champion_gives_calibrated_risk_version_features_and_booster(store):
    home, _, strong, _ = store
    champion = registry.load_champion(CFG, home)
    test = strong.windows["test"]
    assert champion.version == "2" and champion.feature_names == strong.model.feature_names
    assert np.allclose(champion.predict_risk(test), strong.model.predict_risk(test))
    contrib = champion.booster.predict(test[champion.feature_names].astype(float).head(5), pred_contrib=True)
    assert contrib.shape == (5, len(champion.feature_names) + 1)


def test_the_run_records_splits_datasets_metrics_plots_and_a_card(store):
    import mlflow

    _, _, _, steps = store
    run = mlflow.get_run(steps[1][0].run_id)
    assert run.data.params["split.test"] == "2023-11..2023-12"
    assert run.data.params["split.gap_months"] == "6"
    inputs = {d.dataset.name: d.dataset.digest for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"snapshots-train", "snapshots-validation", "snapshots-test"} and all(
        inputs.values()
    )
    client = mlflow.tracking.MlflowClient()
    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    plots = {f.path for f in client.list_artifacts(run.info.run_id, "plots")}
    tables = {f.path for f in client.list_artifacts(run.info.run_id, "metrics")}
    assert {"model_card.md", "metrics", "plots"} <= files
    assert {
        f"plots/{p}.png" for p in ("pr_curve", "reliability", "shap_summary", "precision_recall_at_k")
    } == plots
    assert {
        f"metrics/{t}"
        for t in (
            "all_metrics.json",
            "by_scorer.csv",
            "by_group.csv",
            "reliability.csv",
            "label_variants.json",
        )
    } == tables
    card = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card.md")
    assert "never decides" in card and "| county_code |" in card and "## Group gaps" in card
    assert run.data.tags["promotion.decision"] == "promoted"


def test_the_run_has_few_findable_metrics_and_every_metric_as_an_artifact(store):
    import mlflow

    _, _, strong, steps = store
    run_id = steps[1][0].run_id
    logged = mlflow.get_run(run_id).data.metrics
    assert len(strong.metrics) > 300 and len(logged) <= 30
    assert {
        "precision_at_k",
        "recall_at_k",
        "roc_auc",
        "pr_auc",
        "brier",
        "ece",
        "precision_ratio_to_best_rule",
        "precision_ratio_to_logistic",
        "best_iteration",
        "oracle_share_at_k",
        "latent.model.precision_at_k",
        "group_recall_ratio_min",
        "champion.precision_at_k",  # the promotion rule's comparison
    } <= set(logged)
    assert not any(k.startswith("baseline.rule_") or k.endswith("_worst") for k in logged)
    m = strong.metrics
    assert logged["precision_ratio_to_logistic"] == pytest.approx(
        m["precision_at_k"] / m["baseline.logistic.precision_at_k"]
    )
    everything = mlflow.artifacts.load_dict(f"runs:/{run_id}/metrics/all_metrics.json")
    assert set(everything) == set(m)
    assert everything["baseline.rules_any.precision_at_k"] == pytest.approx(
        m["baseline.rules_any.precision_at_k"]
    )
    by_scorer = mlflow.artifacts.load_text(f"runs:/{run_id}/metrics/by_scorer.csv").splitlines()
    scorers = [line.split(",")[0] for line in by_scorer[1:]]
    assert scorers[0] == "model" and {"baseline.logistic", "baseline.rules_any", "latent.model"} <= set(
        scorers
    )
    assert "precision_at_k" in by_scorer[0].split(",")


def test_the_experiment_opens_on_runs_and_the_version_describes_itself_with_the_card(store):
    import mlflow

    _, _, _, steps = store
    client = mlflow.tracking.MlflowClient()
    logged = steps[1][0]
    assert (
        client.get_experiment(logged.experiment_id).tags["mlflow.experimentKind"]
        == "custom_model_development"
    )
    version = client.get_model_version(CFG.name, logged.version)
    card = mlflow.artifacts.load_text(f"runs:/{logged.run_id}/model_card.md")
    description = version.description
    assert description.startswith("# Model card: lowinc-risk") and len(description) <= 5000
    assert "## Group gaps" in description and "never decides" in description
    assert description == card or "model_card.md" in description  # compact when the card is long
    model_description = client.get_registered_model(CFG.name).description
    assert "only triggers a visit" in model_description
    run_tags = mlflow.get_run(logged.run_id).data.tags
    assert version.tags["group_gaps"] == run_tags["group_gaps"] != ""
    assert version.tags["group_gap_count"] == run_tags["group_gap_count"]


def test_nothing_logged_carries_personal_data(store):
    """Scan every artifact file and every text cell of the MLflow database."""
    home, snapshots, _, _ = store
    keys = set(snapshots["household_key"].unique())
    villages = set(snapshots["village_code"].unique()) | set(snapshots["town_code"].unique())
    texts = []
    for path in HomeLayout(home).mlflow_artifacts.rglob("*"):
        if path.is_file() and path.suffix != ".png":
            texts.append((str(path), path.read_text(encoding="utf-8", errors="ignore")))
    with sqlite3.connect(HomeLayout(home).mlflow_db) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in db.execute(f"select * from {table}"):
                texts.append((table, " ".join(str(v) for v in row if isinstance(v, str))))
    assert len(texts) > 20
    hexkey = re.compile(r"[0-9a-f]{32}")
    for where, text in texts:
        assert find_personal_data(text) == [], where
        leaked = {m for m in hexkey.findall(text) if m in keys} | {v for v in villages if v in text}
        assert not leaked, where


def test_rollback_restores_the_previous_champion_and_promote_sets_it_by_hand(store):
    home, _, _, _ = store
    assert registry.rollback(CFG, home) == {"champion": "1", "rolled_back": "2"}
    assert registry.load_champion(CFG, home).version == "1"
    assert registry.promote(CFG, home, "3") == {"champion": "3", "previous": "1"}
    assert aliases(registry.list_versions(CFG, home))["3"] == ["champion"]  # challenger alias moved off
    assert registry.rollback(CFG, home)["champion"] == "1"
    with pytest.raises(LookupError):
        registry.rollback(CFG, home)
    history = json.loads(
        __import__("mlflow").tracking.MlflowClient().get_registered_model(CFG.name).tags["champion_history"]
    )
    assert history == ["1"]
