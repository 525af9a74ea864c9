"""The Prefect flow: the orchestration of :mod:`pipelines.ingest.orchestration` with a task
run per source and month (a bad file stops only its source), then per month linking and
the report, published as a Markdown artifact; the index of each person's latest identity row;
and the data team's notice.

The tasks are thin: the work is done by the flow's table workers
(:class:`pipelines.ingest.workers.TableWorkers`: in worker processes, so a month's sources
run side by side, or in this process with one worker); a source's task run waits for its
share, called when the orchestration asks for it, so months stay in order."""

from __future__ import annotations

from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from ingest import delivery, people_index
from ingest.report import FileReport, MonthReport
from lowinc.errors import UserError
from lowinc.home import HomeLayout
from lowinc.months import MONTH_HINT
from lowinc.pseudonym import load_key
from lowinc.sources import SourceSpec
from pipelines.ingest import orchestration
from pipelines.ingest.workers import TableWorkers, worker_count
from pipelines.notify import notify_ingest
from pipelines.retries import unless_user_error
from pipelines.settings import load_settings


@task(
    name="ingest-source",
    task_run_name="ingest-{source}-{month}",
    cache_policy=NO_CACHE,  # its input is the work itself, not a value to key a cache on
    timeout_seconds=3600,
)
def ingest_source_task(source: str, month: str, work: Future[list[FileReport]]) -> list[FileReport]:
    """One source's month: its reports, once the table workers are done with it. Not retried:
    the work never raises (a file's or a table's failure is in its reports)."""
    return work.result()


@task(name="ingest-finish", task_run_name="ingest-finish-{month}")
def finish_month_task(
    sources: dict[str, SourceSpec], month: str, home: Path, reports: list[FileReport]
) -> MonthReport:
    paths = HomeLayout(home)
    report = delivery.finish_month(sources, month, paths, reports, load_key(paths.secure))
    create_markdown_artifact(
        key=f"ingest-report-{month}",
        markdown=report.to_markdown(),
        description=f"Ingest report for delivery month {month}",
    )
    return report


@task(name="people-index", cache_policy=NO_CACHE)
def people_index_task(home: Path) -> int:
    """The index of each person's latest identity row (ingest.people_index), brought up to date
    with the partitions this run wrote; its row count (no names: the count only)."""
    return people_index.refresh(HomeLayout(home))


@task(
    name="ingest-notice",
    cache_policy=NO_CACHE,
    retries=2,
    retry_condition_fn=unless_user_error,
    retry_delay_seconds=30,
)
def notice_task(reports: list[MonthReport]) -> dict[str, Any]:
    """The data team's notice of what to fix (queued once per content, then delivered)."""
    return notify_ingest(reports)


@flow(name="ingest")
def ingest_flow(
    month: str | None = None, all_months: bool = False, months: list[str] | None = None
) -> list[dict[str, Any]]:
    """Ingest one delivery month, some (``months``) or every month under the raw root; a
    month's later months already ingested are ingested again, in order."""
    settings = load_settings()
    home = settings.home
    paths = settings.layout
    sources = delivery.sources_from(settings.sources_dir)
    requested = months or (delivery.delivered_months(paths.raw) if all_months else [month] if month else [])
    if not requested:
        raise UserError("give a month (YYYY-MM), months, or all_months=True", hint=MONTH_HINT)
    todo = delivery.months_to_ingest(requested, paths)  # every month checked (YYYY-MM) before any is read
    n = worker_count(settings.ingest.workers, len(sources))
    key = load_key(paths.secure)
    with TableWorkers(paths, key, sources, todo, n, settings.ingest.fallback_dates) as pool:

        def submit(name: str, m: str) -> Future[list[FileReport]]:
            work = pool.submit(name, m)  # in the worker processes from now on (inline: when asked)
            return orchestration.Later(partial(ingest_source_task, name, m, work))

        done = orchestration.ingest_months(
            todo, paths, sources, submit, lambda m, reports: finish_month_task(sources, m, home, reports)
        )
    people_index_task(home)
    notice_task(done)
    return [r.to_dict() for r in done]
