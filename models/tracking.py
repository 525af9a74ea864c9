"""MLflow adapter: one experiment, one run per training, the model registered under one name.

The only module besides models/registry.py that talks to MLflow. Everything logged passes
through :mod:`models.privacy` first; datasets are logged as digests and schemas, never rows.

A run carries a few headline metrics (:data:`HEADLINE_METRICS`, findable in the runs table);
every metric of every scorer is an artifact (``metrics/all_metrics.json``, the scorer × metric
table ``metrics/by_scorer.csv``, ``metrics/by_group.csv``, ``metrics/reliability.csv``). The
label variants (observable; with visits) are side by side: their headline as
``observable.*`` / ``with_visits.*`` metrics, all their metrics in
``metrics/label_variants.json``, the kept one in the ``label_variant`` tag. The
model card is the run's ``model_card.md`` and the registered version's description.
"""

from __future__ import annotations

import hashlib
import json
import math
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
from models.card import gap_tag, group_gaps, judge_groups, model_card, version_description, worst_group_ratio
from models.config import ModelConfig
from models.privacy import assert_clean
from models.schema import design_matrix
from models.train import MODEL, VARIANT_METRICS, VARIANTS, TrainingResult

MODEL_ARTIFACT = "model"
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")  # models from code: no pickle
PIP_PACKAGES = ("mlflow", "lightgbm", "numpy", "pandas", "scikit-learn", "scipy")
# MLflow 3 opens an experiment without this tag on its GenAI (traces) page
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"
# the run's top-level metrics: what a model owner compares across runs (the rest: artifacts)
HEADLINE_METRICS = (
    "precision_at_k",
    "recall_at_k",
    "roc_auc",
    "pr_auc",
    "best_rule_precision_at_k",
    "precision_ratio_to_best_rule",
    "precision_ratio_to_logistic",
    "baseline.logistic.precision_at_k",
    "baseline.rules_any.precision_flagged",
    "precision_at_rules_flagged",
    "brier",
    "brier_uncalibrated",
    "ece",
    "mean_risk",
    "observed_rate",
    "best_iteration",
    "validation_pr_auc",
    "latent.model.precision_at_k",
    "latent.baseline.logistic.precision_at_k",
    "oracle_precision_at_k",
    "oracle_share_at_k",
)
MODEL_DESCRIPTION = (
    "Ranks a region's households by their risk of falling into poverty within the label horizon, "
    "so that social workers visit the most at-risk first within their monthly capacity. "
    "A score only triggers a visit; it never decides eligibility for assistance. "
    "Each version's description is its model card (data, metrics, group gaps, limits)."
)


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


def ensure_experiment(client: MlflowClient, cfg: ModelConfig, home: Path, name: str | None = None) -> str:
    """The id of experiment ``name`` (default ``cfg.experiment``), created if missing, tagged
    as a custom-model experiment (also when it exists without the tag, or with a kind the UI
    only inferred). Artifacts of a database store go under the configured artifact location;
    another experiment than ``cfg.experiment`` gets a subfolder named after it."""
    name = name or cfg.experiment
    found = client.get_experiment_by_name(name)
    if found is not None:
        kind = found.tags.get(KIND_TAG)
        if kind is None or kind.endswith("_inferred") or kind == "no_inferred_type":
            client.set_experiment_tag(found.experiment_id, KIND_TAG, KIND)
        return found.experiment_id
    location = None
    # a database store (SQLite, PostgreSQL) keeps artifacts where it is told: the project
    # home, not ./mlruns in whatever folder the process runs from; a tracking server by
    # http(s) URL serves its own artifact store
    if not cfg.resolved_tracking_uri(home).startswith(("http:", "https:")) or cfg.artifact_location:
        folder = cfg.resolved_artifact_location(home)
        folder = folder if name == cfg.experiment else folder / name
        folder.mkdir(parents=True, exist_ok=True)
        location = folder.as_uri()
    return client.create_experiment(name, artifact_location=location, tags={KIND_TAG: KIND})


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


def variant_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Each fitted label variant's headline, side by side: ``observable.precision_at_k``,
    ``with_visits.precision_at_k`` … (:data:`models.train.VARIANT_METRICS`)."""
    keys = [f"{v.name}.{k}" for v in VARIANTS for k in VARIANT_METRICS]
    return {k: float(metrics[k]) for k in keys if k in metrics}


def variant_tags(info: dict[str, object]) -> dict[str, str]:
    """Which label variant the model is, and whether the variants were one and the same."""
    return {
        "label_variant": str(info.get("label_variant", "observable")),
        "label_variants": str(info.get("label_variants", "observable")),
        "label_variants_identical": str(bool(info.get("label_variants_identical", False))).lower(),
    }


def headline_metrics(metrics: dict[str, float], groups: pd.DataFrame, cfg: ModelConfig) -> dict[str, float]:
    """The run's top-level metrics: :data:`HEADLINE_METRICS` present in ``metrics``, each label
    variant's headline, the worst judged group's recall ratio and the number of flagged groups."""
    out = {k: float(metrics[k]) for k in HEADLINE_METRICS if k in metrics}
    out |= variant_metrics(metrics)
    out["group_recall_ratio_min"] = worst_group_ratio(groups, cfg)
    out["group_gap_count"] = float(len(group_gaps(groups, cfg)))
    return out


def scorer_table(metrics: dict[str, float]) -> pd.DataFrame:
    """Every ``<scorer>.<metric>`` as one row per scorer (model first), one column per metric.

    Scorers are ``model``, ``baseline.*`` and their ``latent.*`` twins; the model's unprefixed
    copies (headline and oracle figures) fill its row where a baseline has the same metric.
    """
    values = pd.Series(metrics, dtype=float)
    dotted = values.index.str.contains(".", regex=False)
    parts = values.index[dotted].str.rsplit(".", n=1)
    long = pd.DataFrame({"scorer": parts.str[0], "metric": parts.str[1], "value": values[dotted].to_numpy()})
    if long.empty:
        return pd.DataFrame(columns=["scorer"])
    table = long.pivot(index="scorer", columns="metric", values="value")
    plain = values[~dotted]
    plain = plain[plain.index.isin(table.columns)]
    if MODEL in table.index:
        table.loc[MODEL] = table.loc[MODEL].fillna(plain.reindex(table.columns))
    order = list(dict.fromkeys([MODEL, *long["scorer"]]))
    table = table.reindex([s for s in order if s in table.index])
    return table.rename_axis(columns=None).reset_index()


def json_safe(metrics: dict[str, float]) -> dict[str, float | None]:
    """Metrics for a JSON file: NaN and infinities become null (JSON has no NaN)."""
    return {k: float(v) if math.isfinite(float(v)) else None for k, v in sorted(metrics.items())}


def log_metric_tables(result: TrainingResult, cfg: ModelConfig, forbidden: set[str]) -> None:
    """Every metric as artifacts under ``metrics/``; none of them carries a household."""
    mlflow.log_dict(json_safe(result.metrics), "metrics/all_metrics.json")
    mlflow.log_text(scorer_table(result.metrics).to_csv(index=False), "metrics/by_scorer.csv")
    groups_csv = judge_groups(result.groups, cfg).to_csv(index=False)
    mlflow.log_text(assert_clean(groups_csv, "group metrics", forbidden), "metrics/by_group.csv")
    mlflow.log_text(result.reliability.to_csv(index=False), "metrics/reliability.csv")
    if result.variants:  # every metric of each label variant, the discarded one included
        mlflow.log_dict({k: json_safe(v) for k, v in result.variants.items()}, "metrics/label_variants.json")


def describe_version(client: MlflowClient, cfg: ModelConfig, version: str, description: str) -> None:
    """The card as the version's description; a short description of the registered model
    when it has none (a person's own description is kept)."""
    client.update_model_version(cfg.name, version, description=description)
    if not client.get_registered_model(cfg.name).description:
        client.update_registered_model(cfg.name, description=MODEL_DESCRIPTION)


def log_training(result: TrainingResult, cfg: ModelConfig, home: Path, horizon: int) -> LoggedRun:
    """Log the run (config, splits, datasets, headline metrics, metric tables, plots, card),
    register the model and describe the version with the card."""
    client = configure(cfg, home)
    experiment_id = ensure_experiment(client, cfg, home)
    names = result.model.feature_names
    forbidden = set(result.windows["test"]["household_key"].astype(str).head(1000))
    test_month = f"{result.split.test[-1]:%Y-%m}"
    gaps = group_gaps(result.groups, cfg)
    gap_tags = {
        "group_gaps": assert_clean(gap_tag(gaps), "group gaps", forbidden),
        "group_gap_count": str(len(gaps)),
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-test-{test_month}") as run:
        mlflow.set_tags(
            {"lowinc.stage": "train", "lowinc.test_window": result.split.to_params()["split.test"]}
            | gap_tags
            | variant_tags(result.info)
        )
        mlflow.log_params(flat_params(cfg) | result.split.to_params() | {"label_horizon": str(horizon)})
        mlflow.log_params(
            {f"data.{k}": str(v) for k, v in result.info.items()} | {"n_features": str(len(names))}
        )
        mlflow.log_metrics(headline_metrics(result.metrics, result.groups, cfg))
        log_metric_tables(result, cfg, forbidden)
        digests = log_datasets(result, names)
        log_figures(result, cfg)
        mlflow.log_dict({"features": names, "categorical": result.model.categorical}, "features.json")
        card = assert_clean(model_card(result, cfg, horizon, digests), "the model card", forbidden)
        mlflow.log_text(card, "model_card.md")
        description = assert_clean(
            version_description(result, cfg, horizon, digests, card), "the model card", forbidden
        )
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
    describe_version(client, cfg, version, description)
    version_tags = (
        {
            "run_id": run.info.run_id,
            "test_window": result.split.to_params()["split.test"],
            "precision_at_k": f"{result.metrics[f'{MODEL}.precision_at_k']:.4f}",
        }
        | gap_tags
        | variant_tags(result.info)
    )
    for key, value in version_tags.items():
        client.set_model_version_tag(cfg.name, version, key, value)
    return LoggedRun(run.info.run_id, version, info.model_uri, experiment_id)
