"""The Prefect flow: train → log and register. Thin tasks around pipelines.train.training.

MLflow is written from the flow's process only (SQLite does not take concurrent writers).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from lowinc.runtime import private_run
from pipelines.notify import FAILURE_HOOKS
from pipelines.settings import Settings, load_settings
from pipelines.train import training


@task(name="train-fit", cache_policy=NO_CACHE)
def train_task(settings: Settings):
    """Read the windows snapshot by snapshot, train, calibrate, evaluate (no MLflow yet)."""
    return training.train(settings)


@task(name="train-register", cache_policy=NO_CACHE)
def register_task(settings: Settings, result) -> dict[str, Any]:
    logged, decision = training.log_and_register(settings, result)
    summary = training.summarise(settings, result, logged, decision)
    create_markdown_artifact(
        key="train-summary",
        markdown=(
            f"# {summary['model']} v{summary['version']}\n\n"
            f"- decision: {summary['decision']}\n- windows: {summary['splits']}\n"
            + "\n".join(f"- {k}: {v}" for k, v in summary["metrics"].items())
        ),
        description="Risk model training: version, windows, headline metrics, promotion decision",
    )
    return summary


@flow(name="train", **FAILURE_HOOKS)
def train_flow() -> dict[str, Any]:
    """Train on the snapshots under the project home, evaluate, register, apply the promotion rule."""
    settings = load_settings()
    private_run(settings.layout)  # a worker's flow run: personal data owner-only whatever its umask
    result = train_task(settings)
    return register_task(settings, result)
