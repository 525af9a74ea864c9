"""The Prefect flow: one task per source (a bad file stops only its source), then linking
and the report, published as a Markdown artifact. The tasks are thin: the work is in run."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from lowinc.pseudonym import load_key
from lowinc.settings import load_settings
from lowinc.sources import SourceSpec
from pipelines.ingest import run, store
from pipelines.ingest.report import FileReport, MonthReport


@task(
    name="ingest-source",
    task_run_name="ingest-{source.source}-{month}",
    retries=2,  # a file share that hiccups; the task is idempotent
    retry_delay_seconds=30,
    timeout_seconds=3600,
)
def ingest_source_task(
    source: SourceSpec, month: str, home: Path, fallback_dates: bool = True
) -> list[FileReport]:
    paths = store.IngestPaths(home)
    return run.ingest_source(source, month, paths, load_key(paths.secure), fallback_dates=fallback_dates)


@task(name="ingest-finish", task_run_name="ingest-finish-{month}")
def finish_month_task(
    sources: dict[str, SourceSpec], month: str, home: Path, reports: list[FileReport]
) -> MonthReport:
    report = run.finish_month(sources, month, store.IngestPaths(home), reports)
    create_markdown_artifact(
        key=f"ingest-report-{month}",
        markdown=report.to_markdown(),
        description=f"Ingest report for delivery month {month}",
    )
    return report


@flow(name="ingest")
def ingest_flow(month: str | None = None, all_months: bool = False) -> list[dict]:
    """Ingest one delivery month (or every month under the raw root, in order)."""
    settings = load_settings()
    home = settings.home
    paths = store.IngestPaths(home)
    sources = run.sources_from(settings.ingest.sources_dir)
    requested = run.delivered_months(paths.raw) if all_months else [month] if month else []
    if not requested:
        raise ValueError("give a month (YYYY-MM) or all_months=True")
    months = run.months_to_ingest(requested, paths)
    out = []
    for m in months:
        run.start_month(m, paths)
        reports: list[FileReport] = []
        for src in sources.values():
            state = ingest_source_task(src, m, home, settings.ingest.fallback_dates, return_state=True)
            if state.is_completed():
                reports.extend(state.result())
            else:  # the source failed as a whole: report it, carry on with the others
                reports.append(
                    FileReport(src.source, "*", "*", "rejected", f"source task failed: {state.message}")
                )
        out.append(finish_month_task(sources, m, home, reports).to_dict())
    return out
