"""MLflow adapter: one experiment, one run per training, the model registered under one name.

The only module besides models/registry.py that talks to MLflow. Everything logged passes
through :mod:`models.privacy` first; datasets are logged as digests and schemas, never rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import mlflow.pyfunc
import pandas as pd
from matplotlib.figure import Figure
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema, TensorSpec
from mlflow.types.utils import _infer_schema

from models import plots
from models.calibration import reliability_curve
from models.card import model_card
from models.config import ModelConfig
from models.privacy import assert_clean
from models.schema import design_matrix
from models.train import MODEL, TrainingResult

MODEL_ARTIFACT = "model"
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")  # models from code: no pickle
PIP_PACKAGES = ("mlflow", "lightgbm", "numpy", "pandas", "scikit-learn", "scipy")


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    version: str
    model_uri: str
    experiment_id: str


def configure(cfg: ModelConfig, home: Path) -> MlflowClient:
    """Point MLflow at the configured store (default: SQLite under the project home)."""
    uri = cfg.resolved_tracking_uri(home)
    # pip requirements are explicit; without this MLflow copies the checkout's uv.lock and
    # pyproject.toml (found from the working directory) into every model
    os.environ.setdefault("MLFLOW_LOG_UV_FILES", "false")
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(client: MlflowClient, cfg: ModelConfig, home: Path) -> str:
    found = client.get_experiment_by_name(cfg.experiment)
    if found is not None:
        return found.experiment_id
    location = None
    # a database store (SQLite, PostgreSQL) keeps artifacts where it is told: the project
    # home, not ./mlruns in whatever folder the process runs from; a tracking server by
    # http(s) URL serves its own artifact store
    if not cfg.resolved_tracking_uri(home).startswith(("http:", "https:")) or cfg.artifact_location:
        folder = cfg.resolved_artifact_location(home)
        folder.mkdir(parents=True, exist_ok=True)
        location = folder.as_uri()
    return client.create_experiment(cfg.experiment, artifact_location=location)


def pip_requirements() -> list[str]:
    return [f"{p}=={dist_version(p)}" for p in PIP_PACKAGES]


def flat_params(cfg: ModelConfig) -> dict[str, str]:
    def walk(prefix: str, value: object) -> dict[str, str]:
        if isinstance(value, dict):
            out: dict[str, str] = {}
            for k, v in value.items():
                out |= walk(f"{prefix}.{k}" if prefix else k, v)
            return out
        return {prefix: json.dumps(value) if isinstance(value, list) else str(value)}

    return walk("model", cfg.model_dump(mode="json"))


def input_example(train: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One made-up household: the training medians. No real household's values are logged."""
    # float64: the signature says "double", so callers may pass any numeric frame
    return design_matrix(train, names).median().to_frame().T.reset_index(drop=True).astype("float64")


def frame_digest(frame: pd.DataFrame) -> str:
    """A content digest of every row, vectorised.

    MLflow's own digest hashes only the first 10,000 rows and, in 3.17, maps ``type`` over
    every cell of the whole frame first (minutes for a city's window).
    """
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def frame_schema(frame: pd.DataFrame) -> Schema:
    head = _infer_schema(frame.head(1_000))
    nullable = frame.isna().any()
    columns: list[ColSpec | TensorSpec] = []
    for spec in head.inputs:  # a data frame's schema: column specs of mlflow DataTypes
        if spec.name is None:
            raise ValueError("a data frame's inferred schema has an unnamed column")
        required = not bool(nullable[spec.name])
        columns.append(ColSpec(spec.type, spec.name, required=required))  # type: ignore[arg-type]
    return Schema(columns)


def log_datasets(result: TrainingResult, names: list[str]) -> dict[str, str]:
    """Digest and schema of each window (features, as-of, label; no keys, no places)."""
    digests = {}
    for window, frame in result.windows.items():
        data = design_matrix(frame, names).assign(
            as_of=frame["as_of"].to_numpy(), label=frame["label"].to_numpy()
        )
        dataset = from_pandas(data, name=f"snapshots-{window}", targets="label", digest=frame_digest(data))
        # MLflow 3.17 infers the schema's `required` flags value by value in Python (~1 min a
        # million rows): infer types on a head, flags vectorised, and fill its cached property
        dataset.__dict__["schema"] = frame_schema(data)
        mlflow.log_input(dataset, context=window)
        digests[window] = dataset.digest
    return digests


def log_figures(result: TrainingResult, cfg: ModelConfig) -> None:
    test = result.windows["test"]
    raw = reliability_curve(
        result.model.raw_score(test), result.scores["label"].to_numpy(bool), cfg.reliability_bins
    )
    figures: dict[str, Callable[[], Figure]] = {
        "plots/pr_curve.png": lambda: plots.pr_curve(result.scores),
        "plots/reliability.png": lambda: plots.reliability(result.reliability, raw),
        "plots/precision_recall_at_k.png": lambda: plots.at_k(result.scores, cfg.visit_capacity),
        "plots/shap_summary.png": lambda: plots.shap_summary(result.model, test, cfg.shap_rows, cfg.seed),
    }
    for path, draw in figures.items():  # one open figure at a time
        fig = draw()
        mlflow.log_figure(fig, path)
        plt.close(fig)


def log_training(result: TrainingResult, cfg: ModelConfig, home: Path, horizon: int) -> LoggedRun:
    """Log the run (config, splits, datasets, metrics, plots, card) and register the model."""
    client = configure(cfg, home)
    experiment_id = ensure_experiment(client, cfg, home)
    names = result.model.feature_names
    forbidden = set(result.windows["test"]["household_key"].astype(str).head(1000))
    test_month = f"{result.split.test[-1]:%Y-%m}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-test-{test_month}") as run:
        mlflow.set_tags(
            {"lowinc.stage": "train", "lowinc.test_window": result.split.to_params()["split.test"]}
        )
        mlflow.log_params(flat_params(cfg) | result.split.to_params() | {"label_horizon": str(horizon)})
        mlflow.log_params(
            {f"data.{k}": str(v) for k, v in result.info.items()} | {"n_features": str(len(names))}
        )
        mlflow.log_metrics({k: float(v) for k, v in result.metrics.items()})
        digests = log_datasets(result, names)
        log_figures(result, cfg)
        mlflow.log_dict({"features": names, "categorical": result.model.categorical}, "features.json")
        groups_csv = result.groups.to_csv(index=False)
        mlflow.log_text(assert_clean(groups_csv, "group metrics", forbidden), "metrics_by_group.csv")
        mlflow.log_text(result.reliability.to_csv(index=False), "reliability.csv")
        card = model_card(result, cfg, horizon, digests)
        mlflow.log_text(assert_clean(card, "the model card", forbidden), "model_card.md")
        example = input_example(result.windows["train"], names)
        with tempfile.TemporaryDirectory() as tmp:
            folder = result.model.save(Path(tmp) / "risk_model")
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=str(MODEL_CODE),
                artifacts={"risk_model": str(folder)},
                signature=infer_signature(example, result.model.predict_risk(example)),
                input_example=example,
                pip_requirements=pip_requirements(),
                registered_model_name=cfg.name,
            )
    version = str(info.registered_model_version)
    client.set_model_version_tag(cfg.name, version, "run_id", run.info.run_id)
    client.set_model_version_tag(cfg.name, version, "test_window", result.split.to_params()["split.test"])
    client.set_model_version_tag(
        cfg.name, version, "precision_at_k", f"{result.metrics[f'{MODEL}.precision_at_k']:.4f}"
    )
    return LoggedRun(run.info.run_id, version, info.model_uri, experiment_id)
