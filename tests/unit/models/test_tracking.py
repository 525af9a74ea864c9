"""The MLflow adapter on a real SQLite store: experiments for other jobs, group gaps as tags."""

import dataclasses

import mlflow
import pandas as pd
import pytest

from models.config import LightGBMConfig, ModelConfig, SplitConfig
from models.tracking import KIND, KIND_TAG, configure, ensure_experiment, log_training
from models.train import train_risk_model
from tests.unit.models.synthetic import FEATURES, make_snapshots

CFG = ModelConfig(
    visit_capacity=50,
    lightgbm=LightGBMConfig(num_threads=1),
    splits=SplitConfig(train_months=None, test_months=2),
    shap_rows=100,
)


def test_experiments_are_tagged_custom_models_and_another_name_gets_its_own_folder(tmp_path):
    client = configure(CFG, tmp_path)
    risk = ensure_experiment(client, CFG, tmp_path)
    monitoring = ensure_experiment(client, CFG, tmp_path, name="lowinc-monitoring")
    assert risk != monitoring and ensure_experiment(client, CFG, tmp_path) == risk
    for experiment_id in (risk, monitoring):
        assert client.get_experiment(experiment_id).tags[KIND_TAG] == KIND == "custom_model_development"
    artifacts = CFG.resolved_artifact_location(tmp_path)
    assert client.get_experiment(risk).artifact_location == artifacts.as_uri()
    assert client.get_experiment(monitoring).artifact_location == (artifacts / "lowinc-monitoring").as_uri()
    assert client.get_experiment_by_name("lowinc-monitoring").name == "lowinc-monitoring"


def test_an_existing_experiment_without_the_kind_tag_gets_it(tmp_path):
    client = configure(CFG, tmp_path)
    old = client.create_experiment(CFG.experiment, artifact_location=(tmp_path / "a").as_uri())
    inferred = client.create_experiment("other", tags={KIND_TAG: "genai_development_inferred"})
    chosen = client.create_experiment("chosen", tags={KIND_TAG: "genai_development"})
    assert KIND_TAG not in client.get_experiment(old).tags
    assert ensure_experiment(client, CFG, tmp_path) == old
    ensure_experiment(client, CFG, tmp_path, name="other")
    ensure_experiment(client, CFG, tmp_path, name="chosen")
    assert client.get_experiment(old).tags[KIND_TAG] == KIND
    assert client.get_experiment(inferred).tags[KIND_TAG] == KIND
    assert client.get_experiment(chosen).tags[KIND_TAG] == "genai_development"  # a person's choice stays


@pytest.fixture(scope="module")
def gapped(tmp_path_factory):
    """A trained model whose group table has one county at a quarter of the overall recall
    (enough falls) and one far below with too few falls to judge."""
    snapshots, _ = make_snapshots(households=1_000, months=30, seed=3)
    result = train_risk_model(snapshots, FEATURES, CFG, horizon=6)
    groups = pd.DataFrame(
        {
            "group": ["county_code", "county_code", "county_code", "urban", "urban"],
            "value": ["330502", "330503", "330521", "False", "True"],
            "rows": [900, 800, 100, 1000, 800],
            "positives": [50.0, 40.0, 4.0, 60.0, 34.0],
            "selected": [20.0, 5.0, 1.0, 10.0, 16.0],
            "recall_at_k": [0.3, 0.05, 0.0, 0.15, 0.25],
            "precision_at_k": [0.4, 0.4, 0.0, 0.3, 0.35],
            "recall_ratio": [1.5, 0.25, 0.0, 0.75, 1.25],
        }
    )
    result = dataclasses.replace(result, groups=groups)
    home = tmp_path_factory.mktemp("gapped")
    return home, log_training(result, CFG, home, horizon=6)


def test_a_group_gap_is_flagged_in_the_card_and_as_run_and_version_tags(gapped):
    home, logged = gapped
    client = configure(CFG, home)  # also points mlflow.* at this store
    expected = "county_code=330503:0.25;urban=False:0.75"
    run = mlflow.get_run(logged.run_id)
    version = client.get_model_version(CFG.name, logged.version)
    for tags in (run.data.tags, version.tags):
        assert tags["group_gaps"] == expected and tags["group_gap_count"] == "2"
    assert run.data.metrics["group_recall_ratio_min"] == 0.25  # the 4-fall county (0.0) is not judged
    card = mlflow.artifacts.load_text(f"runs:/{logged.run_id}/model_card.md")
    gaps = card.split("## Group gaps")[1].split("##")[0]
    assert "**county_code = 330503**: recall ratio 0.25" in gaps and "330521" not in gaps
    assert "| county_code | 330521 | 100 | 4 |" in card and "few falls" in card
    assert "## Group gaps" in version.description
    by_group = mlflow.artifacts.load_text(f"runs:/{logged.run_id}/metrics/by_group.csv")
    assert "330503" in by_group and ",gap" in by_group and ",few falls" in by_group
