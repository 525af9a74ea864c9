"""The Prefect flow: one task per as-of date; the work is in pipelines.features.snapshots."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from pipelines.features import snapshots
from pipelines.retries import unless_user_error
from pipelines.settings import load_settings

# a failed snapshot is tried once more, unless the failure is the user's (a bad date, ...)
RETRIES: dict[str, Any] = {
    "retries": 1,
    "retry_condition_fn": unless_user_error,
    "retry_delay_seconds": 30,
    "timeout_seconds": 3600,
}


@task(name="features-snapshot", task_run_name="features-{as_of}", **RETRIES)
def snapshot_task(as_of: str) -> dict:
    """Build and write one snapshot; its summary (counts, path, timings: no personal data)."""
    return snapshots.build_one(load_settings(), as_of).to_dict()


@task(name="features-labels", task_run_name="labels-{as_of}", **RETRIES)
def labels_task(as_of: str) -> dict:
    """Bring the labels of the written snapshot up to date, its features as built (a snapshot
    that is missing or whose households changed is built whole); its summary."""
    return snapshots.relabel_one(load_settings(), as_of).to_dict()


@flow(name="features")
def features_flow(
    as_of: str | None = None, start: str | None = None, end: str | None = None, relabel: bool = False
) -> list[dict]:
    """Snapshots at one as-of date, or monthly from ``start`` to ``end`` (the 1st of a month).
    ``relabel``: only the labels of snapshots already written, which mature as months arrive."""
    if as_of:
        as_ofs = snapshots.as_of_range(as_of, as_of)
    elif start and end:
        as_ofs = snapshots.as_of_range(start, end)
    else:
        raise ValueError("give as_of, or start and end (YYYY-MM-01)")
    run = labels_task if relabel else snapshot_task
    return [run(f"{t:%Y-%m-%d}") for t in as_ofs]
