"""The Prefect delivery flow: open the outreach database, queue a visit list if given, export
every township's workbook of that month and tell its officer (a `list-ready` message), deliver.

Tasks are thin wrappers around the outreach package and read the configuration themselves, so
no addresses or secrets become task parameters; no personal data reaches Prefect (summaries
carry counts only).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from lowinc.home import HomeLayout
from lowinc.runtime import private_run
from pipelines.notify import FAILURE_HOOKS
from pipelines.outreach.dispatch import deliver_due, load_outreach, queue_visit_list, read_frame
from pipelines.outreach.exports import export_month
from pipelines.retries import unless_user_error
from pipelines.settings import load_settings


@task(name="outreach-queue", cache_policy=NO_CACHE, timeout_seconds=3600)
def queue_task(visit_list_path: str, run_id: str) -> dict[str, Any]:
    return queue_visit_list(read_frame(Path(visit_list_path)), run_id)


@task(name="outreach-export", cache_policy=NO_CACHE, timeout_seconds=3600)
def export_task(as_of: str) -> dict[str, Any]:
    """Every township's workbook of the month, and the list-ready notices (counts and paths only)."""
    return export_month(as_of)


@task(
    name="outreach-deliver",
    cache_policy=NO_CACHE,
    retries=3,
    retry_condition_fn=unless_user_error,
    retry_delay_seconds=60,
    timeout_seconds=1800,
)
def deliver_task() -> dict[str, Any]:
    return deliver_due()


@flow(name="deliver", **FAILURE_HOOKS)
def deliver_flow(
    visit_list_path: str | None = None, as_of: str | None = None, run_id: str | None = None
) -> dict[str, Any]:
    """Queue a visit list (a path, or the scoring step's list of ``as_of``), export the month's
    township workbooks as their officers and queue the list-ready notices, then deliver every due
    message. Without either it only delivers: the scheduled retry of what is still pending."""
    private_run(load_settings().layout)  # a worker's flow run: personal data owner-only whatever its umask
    _config, home = load_outreach()
    result: dict[str, Any] = {}
    if as_of and not visit_list_path:
        visit_list_path = str(HomeLayout(home).visit_list(as_of))
    if visit_list_path:
        result["queue"] = queue_task(visit_list_path, run_id or uuid.uuid4().hex[:12])
        if result["queue"]["as_of"]:
            result["exports"] = export_task(result["queue"]["as_of"])
    result["deliver"] = deliver_task()
    return result
