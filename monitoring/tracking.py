"""Monitoring's MLflow adapter: one long-lived run per model version in ``lowinc-monitoring``.

Every figure of a month is logged with ``step`` = months since the version first scored and
the as-of date as the metric's timestamp, so MLflow draws each as a line over months. The
run keeps the month → status history in its ``lowinc.months`` tag (what "amber two months
running" reads); the model version carries ``monitoring_status``, ``last_monitored_month``
and ``monitoring_summary``. Identical figures logged again (a re-run) are not duplicated.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from monitoring.reference import ARTIFACT, Reference

VERSION_TAG = "lowinc.model_version"
MONTHS_TAG = "lowinc.months"
MAX_MONTHS_KEPT = 60  # the status history in the run's tag (the metrics keep everything)
BATCH = 900  # MLflow takes at most 1,000 metrics per call


def timestamp_ms(as_of: str) -> int:
    """The as-of date (midnight UTC) in milliseconds: the metric's timestamp."""
    return int(pd.Timestamp(as_of).tz_localize("UTC").timestamp() * 1000)


def version_run(client: MlflowClient, experiment_id: str, version: str, model_name: str) -> str:
    """The version's monitoring run, created the first time."""
    found = client.search_runs(
        [experiment_id], filter_string=f"tags.`{VERSION_TAG}` = '{version}'", max_results=1
    )
    if found:
        return str(found[0].info.run_id)
    run = client.create_run(
        experiment_id,
        run_name=f"monitor-v{version}",
        tags={VERSION_TAG: str(version), "lowinc.stage": "monitor", "lowinc.model": model_name},
    )
    client.set_terminated(run.info.run_id, "FINISHED")  # long-lived: figures are appended by month
    return str(run.info.run_id)


def log_figures(
    client: MlflowClient, run_id: str, metrics: Mapping[str, float], step: int, as_of: str
) -> None:
    ts = timestamp_ms(as_of)
    items = [Metric(k, float(v), ts, int(step)) for k, v in sorted(metrics.items())]
    for i in range(0, len(items), BATCH):
        client.log_batch(run_id, metrics=items[i : i + BATCH])


def month_statuses(client: MlflowClient, run_id: str) -> dict[str, str]:
    """Month (YYYY-MM) → status of every month monitored for this run, oldest first."""
    raw = client.get_run(run_id).data.tags.get(MONTHS_TAG, "{}")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return dict(sorted((str(k), str(v)) for k, v in data.items()))


def record_status(client: MlflowClient, run_id: str, month: str, status: str) -> None:
    months = month_statuses(client, run_id) | {month: status}
    kept = dict(sorted(months.items())[-MAX_MONTHS_KEPT:])
    client.set_tag(run_id, MONTHS_TAG, json.dumps(kept, separators=(",", ":")))
    client.set_tag(run_id, "lowinc.last_status", status)


def previous_statuses(statuses: Mapping[str, str], month: str, n: int) -> list[str]:
    """The statuses of the ``n`` months just before ``month`` (green where not monitored)."""
    start = pd.Period(month, "M")
    return [statuses.get(str(start - i), "green") for i in range(n, 0, -1)]


def log_folder(client: MlflowClient, run_id: str, folder: Path, artifact_path: str) -> None:
    client.log_artifacts(run_id, str(folder), artifact_path)


def save_reference(client: MlflowClient, run_id: str, reference: Reference) -> None:
    """Store the reference with the version's training run (``monitoring/reference.json``)."""
    client.log_dict(run_id, reference.to_dict(), ARTIFACT)


def load_reference(client: MlflowClient, run_id: str) -> Reference | None:
    """The reference frozen with a training run, or None when it has none (trained before)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bar on stderr
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, ARTIFACT, tmp)
        except (MlflowException, OSError):
            return None
        return Reference.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def tag_version(client: MlflowClient, model_name: str, version: str, tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value[:5000])
