"""The monitor stage as a Prefect flow: one task around pipelines.monitor.monitor.

MLflow is written from the flow's process only (SQLite does not take concurrent writers).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pipelines.monitor.monitor import monitor
from pipelines.notify import FAILURE_HOOKS
from pipelines.settings import load_settings


@task(name="monitor", task_run_name="monitor-{as_of}", cache_policy=NO_CACHE, timeout_seconds=3600)
def monitor_task(as_of: str | None) -> dict[str, Any]:
    result = monitor(load_settings(), as_of)
    rows = "\n".join(
        f"| v{m['version']} | {m['role']} | {m['status']} | {m['score_psi']} | {m['top_feature_psi_max']} |"
        for m in result["models"]
    )
    findings = "\n".join(f"- {f['level']}: {f['text']}" for f in result["models"][0]["findings"][:10])
    create_markdown_artifact(
        key="monitoring-summary",
        markdown=f"# Monitoring {result['as_of']}: {result['status']}\n\n"
        f"| version | role | status | score PSI | max top-feature PSI |\n|---|---|---|---|---|\n"
        f"{rows}\n\n{findings or 'No findings.'}\n",
        description="Drift and outcome status of the month (figures and feature names only)",
    )
    return result


@flow(name="monitor", **FAILURE_HOOKS)
def monitor_flow(as_of: str | None = None) -> dict[str, Any]:
    """Monitor the scored month ``as_of`` (default: the latest)."""
    return monitor_task(as_of)
