"""Tables ingested side by side in worker processes, each table always in the same one.

A month's tables are independent until linking, so they can run at once; a table's
months are not (a settlement id re-sent later is a duplicate of the earlier one), so
each table runs its months in order in one worker process, which also keeps that
process's memo (pseudonyms, earlier keys) warm from month to month. Tables are dealt to
workers by an estimate of their work, largest first, each to the least loaded worker.

Each worker is a standard one-process :class:`~concurrent.futures.ProcessPoolExecutor`
(FIFO, so a table's months run in the order submitted) whose initializer gives the
process what every table it ingests shares: the home, the pseudonym key, the date rule.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq

from ingest import delivery
from ingest.report import FileReport, MonthReport
from ingest.suites import default_runner
from lowinc.home import HomeLayout
from lowinc.sources import FileSpec, SourceSpec
from pipelines.ingest import orchestration

XLSX_BYTES_PER_ROW = 20  # a rough size of a compressed worksheet row: only for balancing
# rough seconds of ingest work, for balancing only: per file (validation runs, writes) and
# per row by format (Excel rows are read one by one in Python)
FILE_SECONDS = 0.3
ROW_SECONDS = {"csv": 3e-6, "parquet": 2e-6, "xlsx": 1.2e-4}


def worker_count(configured: int, sources: int) -> int:
    """Workers to use: as configured, else one per core; never more than sources."""
    return max(1, min(configured or os.cpu_count() or 1, sources))


def delivered_rows(path: Path, spec: FileSpec) -> int:
    """About how many rows a delivered file holds, cheaply (for balancing work only)."""
    try:
        if spec.format == "parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        if spec.format == "csv":
            with path.open("rb") as fh:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
        return path.stat().st_size // XLSX_BYTES_PER_ROW
    except Exception:  # any: a hostile file must not stop the pool from starting
        return 0  # an unreadable file is rejected by its reader; it weighs nothing here


def estimated_seconds(path: Path, spec: FileSpec) -> float:
    return FILE_SECONDS + delivered_rows(path, spec) * ROW_SECONDS[spec.format]


def assign(work: dict[str, float], workers: int) -> dict[str, int]:
    """Worker of each unit of work: the largest first, each to the least loaded worker."""
    load = [0.0] * workers
    out = {}
    for name in sorted(work, key=lambda n: (-work[n], n)):
        w = min(range(workers), key=lambda i: (load[i], i))
        out[name] = w
        load[w] += work[name]
    return out


@dataclass(frozen=True)
class WorkerSetup:
    """What every table ingested in one process shares."""

    paths: HomeLayout
    key: bytes
    fallback_dates: bool

    def ingest(
        self, source: str, specs: Sequence[FileSpec], month: str, first: str | None
    ) -> list[FileReport]:
        """Some tables of one source's month (each never raises: failures are reports)."""
        return [
            r
            for spec in specs
            for r in delivery.ingest_table(
                source, spec, month, self.paths, self.key, default_runner(), first, self.fallback_dates
            )
        ]


_setup: WorkerSetup | None = None  # a worker process's own, set once by its initializer


def _start_worker(setup: WorkerSetup) -> None:
    """Initializer of a worker process."""
    global _setup
    _setup = setup


def _ingest_in_worker(source: str, spec: FileSpec, month: str, first: str | None) -> list[FileReport]:
    """One table of a source's month, in a worker process."""
    if _setup is None:
        raise RuntimeError("not a worker process started by TableWorkers")
    return _setup.ingest(source, [spec], month, first)


class TableWorkers:
    """Worker processes for the tables of some months (inline, in this process, with one):
    :meth:`submit` is the submit function the orchestration is given."""

    def __init__(
        self,
        paths: HomeLayout,
        key: bytes,
        sources: dict[str, SourceSpec],
        months: list[str],
        workers: int,
        fallback_dates: bool = True,
    ) -> None:
        self._setup = WorkerSetup(paths, key, fallback_dates)
        self._sources = sources
        self._first = {name: next(iter(delivery.delivered_months(paths.raw, name)), None) for name in sources}
        work = {
            spec.table: sum(
                estimated_seconds(p, spec)
                for m in months
                for p in delivery.delivered_files(paths.raw / name / m, spec)
            )
            for name, src in sources.items()
            for spec in src.files
        }
        self._worker = assign(work, workers)
        ctx = multiprocessing.get_context("spawn")  # no inherited locks or threads
        self._pools = [
            ProcessPoolExecutor(1, mp_context=ctx, initializer=_start_worker, initargs=(self._setup,))
            for _ in range(workers if workers > 1 else 0)
        ]

    def submit(self, source: str, month: str) -> Future[list[FileReport]]:
        """Ingest one source's month, each table in its worker; a table's months run in the
        order submitted."""
        specs = self._sources[source].files
        first = self._first[source]
        if not self._pools:
            return orchestration.Later(partial(self._setup.ingest, source, specs, month, first))
        raw = self._setup.paths.raw
        return _Gathered(
            [
                (
                    self._pools[self._worker[spec.table]].submit(
                        _ingest_in_worker, source, spec, month, first
                    ),
                    partial(delivery.table_failed, source, spec, month, raw),
                )
                for spec in specs
            ]
        )

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> TableWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ingest_with_workers(
    months: list[str],
    paths: HomeLayout,
    sources: dict[str, SourceSpec],
    key: bytes,
    workers: int = 1,
    fallback_dates: bool = True,
    on_month: Callable[[MonthReport], None] | None = None,
) -> list[MonthReport]:
    """The orchestration as ``lowinc ingest`` runs it: sources in ``workers`` processes,
    each month linked and reported here."""
    with TableWorkers(paths, key, sources, months, workers, fallback_dates) as pool:
        return orchestration.ingest_months(
            months,
            paths,
            sources,
            pool.submit,
            lambda month, reports: delivery.finish_month(sources, month, paths, reports, key),
            on_month,
        )


class _Gathered(Future[list[FileReport]]):
    """The reports of a source's tables, each computed in its own worker. A table whose
    worker failed (a process lost) is reported on its own, its files rejected by name:
    the source's other tables keep their reports."""

    def __init__(
        self, parts: list[tuple[Future[list[FileReport]], Callable[[BaseException], list[FileReport]]]]
    ) -> None:
        super().__init__()
        self._parts = parts

    def result(self, timeout: float | None = None) -> list[FileReport]:
        out: list[FileReport] = []
        for part, failed in self._parts:
            try:
                out.extend(part.result(timeout))
            except TimeoutError:
                raise
            except Exception as exc:
                out.extend(failed(exc))
        return out
