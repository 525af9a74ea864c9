"""Tables ingested side by side in worker processes, each table always in the same one.

A month's tables are independent until linking, so they can run at once; a table's
months are not (a settlement id re-sent later is a duplicate of the earlier one), so
each table runs its months in order in one worker process, which also keeps that
process's memo (pseudonyms, earlier keys) warm from month to month. Tables are dealt to
workers by an estimate of their work, largest first, each to the least loaded worker.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq

from lowinc.sources import FileSpec, SourceSpec
from monitoring.suites import default_runner
from pipelines.ingest import run, store
from pipelines.ingest.report import FileReport

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
            return pq.ParquetFile(path).metadata.num_rows
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


def _ingest(
    home: str, key: bytes, source: str, spec: FileSpec, month: str, first: str | None, fallback: bool
) -> list[FileReport]:
    paths = store.IngestPaths(Path(home))
    return run.ingest_table(source, spec, month, paths, key, default_runner(), first, fallback)


class SourceWorkers:
    """Worker processes for the sources of some months (inline when only one)."""

    def __init__(
        self,
        home: Path,
        key: bytes,
        sources: dict[str, SourceSpec],
        months: list[str],
        workers: int,
        fallback_dates: bool = True,
    ) -> None:
        self._args = (str(home), key)
        self._fallback = fallback_dates
        self._sources = sources
        raw = Path(home) / "raw"
        self._first = {name: next(iter(run.delivered_months(raw, name)), None) for name in sources}
        work = {
            spec.table: sum(
                estimated_seconds(p, spec) for m in months for p in run.delivered_files(raw / name / m, spec)
            )
            for name, src in sources.items()
            for spec in src.files
        }
        self._worker = assign(work, workers)
        ctx = multiprocessing.get_context("spawn")  # no inherited locks or threads
        self._pools = [ProcessPoolExecutor(1, mp_context=ctx) for _ in range(workers)] if workers > 1 else []
        self.handle = uuid.uuid4().hex  # how a Prefect task (which takes plain values) finds it
        _open[self.handle] = self

    def submit(self, source: str, month: str) -> Future[list[FileReport]]:
        """Ingest one source's month, each table in its worker; a table's months run in the
        order submitted."""
        jobs = [
            (spec.table, (*self._args, source, spec, month, self._first[source], self._fallback))
            for spec in self._sources[source].files
        ]
        if not self._pools:
            return _Later(lambda: [r for _, args in jobs for r in _ingest(*args)])
        raw = Path(self._args[0]) / "raw"
        specs = self._sources[source].files
        return _Gathered(
            [
                (
                    self._pools[self._worker[table]].submit(_ingest, *args),
                    partial(run.table_failed, source, spec, month, raw),
                )
                for spec, (table, args) in zip(specs, jobs, strict=True)
            ]
        )

    def close(self) -> None:
        _open.pop(self.handle, None)
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SourceWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_open: dict[str, SourceWorkers] = {}


def by_handle(handle: str) -> SourceWorkers:
    """The open workers with this handle (in this process)."""
    return _open[handle]


class _Gathered(Future):
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


class _Later(Future):
    """Inline work, done when its result is first asked for (in submission order)."""

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
