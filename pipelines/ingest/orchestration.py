"""Ingesting months, written once: the CLI (``lowinc ingest``) and the Prefect flow both call
:func:`ingest_months`, each passing its own way to run a source's month (``submit``) and
to finish a month (``finish``).

The order is what makes months right: a later month's cross-month duplicates and linking
depend on the earlier ones, so every table's months must run in the order submitted (the
submitter's promise: :class:`pipelines.ingest.workers.TableWorkers` keeps each table in one
worker process), and each month is linked and reported only when all its sources are done.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from ingest import delivery
from ingest.report import FileReport, MonthReport
from lowinc.home import HomeLayout
from lowinc.sources import SourceSpec

Submit = Callable[[str, str], "Future[list[FileReport]]"]
"""(source name, month) → the future reports of that source's month."""
Finish = Callable[[str, list[FileReport]], MonthReport]
"""(month, its sources' reports) → the month's report, linked and written."""


def ingest_months(
    months: list[str],
    paths: HomeLayout,
    sources: dict[str, SourceSpec],
    submit: Submit,
    finish: Finish,
    on_month: Callable[[MonthReport], None] | None = None,
) -> list[MonthReport]:
    """Ingest months in order: every source of every month submitted at once, then each
    month finished (linked, reported) as soon as its own sources are done, while the
    workers go on to the next. A source that fails as a whole has its files rejected by
    name; the month goes on.

    Every month's report is removed first: a run stopped half way leaves the months it
    did not finish without one, and the next run ingests them again.
    """
    for m in months:
        delivery.start_month(m, paths)
    pending = {m: {name: submit(name, m) for name in sources} for m in months}
    out: list[MonthReport] = []
    for m in months:
        reports: list[FileReport] = []
        for name, future in pending.pop(m).items():
            try:
                reports.extend(future.result())
            except Exception as exc:  # a worker process lost, a task failed: its files, by name
                reports.extend(source_failed(sources[name], m, paths.raw, exc))
        out.append(finish(m, reports))
        if on_month:
            on_month(out[-1])
    return out


def source_failed(source: SourceSpec, month: str, raw: Path, exc: BaseException) -> list[FileReport]:
    """Each file of a source whose month failed as a whole, by name and the error's type only
    (its message may quote a delivered row)."""
    return [r for spec in source.files for r in delivery.table_failed(source.source, spec, month, raw, exc)]


class Later(Future[list[FileReport]]):
    """Work done here, when its result is first asked for: the orchestration asks in order
    (month by month), so inline work keeps each table's months in order."""

    def __init__(self, call: Callable[[], list[FileReport]]) -> None:
        super().__init__()
        self._call: Callable[[], list[FileReport]] | None = call

    def result(self, timeout: float | None = None) -> list[FileReport]:
        if self._call is not None:
            call, self._call = self._call, None
            try:
                self.set_result(call())
            except Exception as exc:
                self.set_exception(exc)
        return super().result(timeout)
