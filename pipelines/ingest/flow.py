"""The Prefect flow: one task per source and month (a bad file stops only its source), then
linking and the report, published as a Markdown artifact. The tasks are thin: the work is
in run; with more than one worker the source tasks hand it to the worker processes
(pipelines.ingest.workers), so a month's sources run side by side."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from lowinc.errors import UserError
from lowinc.months import MONTH_HINT
from lowinc.pseudonym import load_key
from lowinc.sources import SourceSpec
from pipelines.ingest import run, store
from pipelines.ingest.report import FileReport, MonthReport
from pipelines.ingest.workers import SourceWorkers, by_handle, worker_count
from pipelines.notify import notify_ingest
from pipelines.retries import unless_user_error
from pipelines.settings import load_settings


@task(
    name="ingest-source",
    task_run_name="ingest-{source.source}-{month}",
    retries=2,  # a file share that hiccups; the task is idempotent
    retry_condition_fn=unless_user_error,
    retry_delay_seconds=30,
    timeout_seconds=3600,
)
def ingest_source_task(
    source: SourceSpec, month: str, home: Path, fallback_dates: bool = True, workers: str | None = None
) -> list[FileReport]:
    if workers:  # the worker processes of this flow run
        return by_handle(workers).submit(source.source, month).result()
    paths = store.IngestPaths(home)
    return run.ingest_source(source, month, paths, load_key(paths.secure), fallback_dates=fallback_dates)


@task(name="ingest-finish", task_run_name="ingest-finish-{month}")
def finish_month_task(
    sources: dict[str, SourceSpec], month: str, home: Path, reports: list[FileReport]
) -> MonthReport:
    paths = store.IngestPaths(home)
    report = run.finish_month(sources, month, paths, reports, load_key(paths.secure))
    create_markdown_artifact(
        key=f"ingest-report-{month}",
        markdown=report.to_markdown(),
        description=f"Ingest report for delivery month {month}",
    )
    return report


@task(
    name="ingest-notice",
    cache_policy=NO_CACHE,
    retries=2,
    retry_condition_fn=unless_user_error,
    retry_delay_seconds=30,
)
def notice_task(reports: list[MonthReport]) -> dict:
    """The data team's notice of what to fix (queued once per content, then delivered)."""
    return notify_ingest(reports)


def _source_failed(source: SourceSpec, month: str, raw: Path, exc: BaseException) -> list[FileReport]:
    """Each file of a source whose task failed as a whole, by name and the error's type only
    (its message may quote a delivered row)."""
    return [r for spec in source.files for r in run.table_failed(source.source, spec, month, raw, exc)]


@flow(name="ingest")
def ingest_flow(
    month: str | None = None, all_months: bool = False, months: list[str] | None = None
) -> list[dict]:
    """Ingest one delivery month, some (``months``) or every month under the raw root; a
    month's later months already ingested are ingested again, in order."""
    settings = load_settings()
    home = settings.home
    paths = store.IngestPaths(home)
    sources = run.sources_from(settings.ingest.sources_dir)
    requested = months or (run.delivered_months(paths.raw) if all_months else [month] if month else [])
    if not requested:
        raise UserError("give a month (YYYY-MM), months, or all_months=True", hint=MONTH_HINT)
    todo = run.months_to_ingest(requested, paths)  # every month checked (YYYY-MM) before any is read
    for m in todo:  # a run stopped half way leaves these without a report: redone next time
        run.start_month(m, paths)
    fallback = settings.ingest.fallback_dates
    n = worker_count(settings.ingest.workers, len(sources))
    done: list[MonthReport] = []
    with SourceWorkers(home, load_key(paths.secure), sources, todo, n, fallback) as pool:
        handle = pool.handle if n > 1 else None
        # with workers, every month's source tasks are submitted at once: each source's
        # months run in order in its worker, and each month is linked when its own are done
        pending = {
            m: {
                name: ingest_source_task.submit(src, m, home, fallback, handle)
                for name, src in sources.items()
            }
            if handle
            else {}
            for m in todo
        }
        for m in todo:
            reports: list[FileReport] = []
            for name, src in sources.items():
                try:
                    if handle:
                        reports.extend(pending[m][name].result())
                    else:
                        reports.extend(ingest_source_task(src, m, home, fallback))
                except Exception as exc:  # the source failed as a whole: report it, go on
                    reports.extend(_source_failed(src, m, paths.raw, exc))
            done.append(finish_month_task(sources, m, home, reports))
    notice_task(done)
    return [r.to_dict() for r in done]
