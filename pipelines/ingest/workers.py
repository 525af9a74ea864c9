"""Sources ingested side by side in worker processes, each source always in the same one.

A month's sources are independent until linking, so they can run at once; a source's
months are not (a settlement id re-sent later is a duplicate of the earlier one), so
each source runs its months in order in one worker process, which also keeps that
process's memo (pseudonyms, earlier keys) warm from month to month. Sources are dealt to
workers by the rows they deliver, largest first, each to the least loaded worker.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq

from lowinc.sources import FileSpec, SourceSpec
from pipelines.ingest.report import FileReport

XLSX_BYTES_PER_ROW = 20  # a rough size of a compressed worksheet row: only for balancing


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
    except (OSError, ValueError):
        return 0  # an unreadable file is rejected by its reader; it weighs nothing here


def assign(work: dict[str, int], workers: int) -> dict[str, int]:
    """Worker of each source: the largest first, each to the least loaded worker."""
    load = [0] * workers
    out = {}
    for name in sorted(work, key=lambda n: (-work[n], n)):
        w = min(range(workers), key=lambda i: (load[i], i))
        out[name] = w
        load[w] += work[name]
    return out


def _ingest(home: str, key: bytes, source: SourceSpec, month: str, fallback_dates: bool) -> list[FileReport]:
    from pipelines.ingest import run, store  # in the worker process

    return run.ingest_source(source, month, store.IngestPaths(Path(home)), key, fallback_dates=fallback_dates)


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
        work = {
            name: sum(
                delivered_rows(p, spec)
                for m in months
                for spec in src.files
                for p in (Path(home) / "raw" / name / m).glob(spec.pattern)
            )
            for name, src in sources.items()
        }
        self._worker = assign(work, workers)
        ctx = multiprocessing.get_context("spawn")  # no inherited locks or threads
        self._pools = [ProcessPoolExecutor(1, mp_context=ctx) for _ in range(workers)] if workers > 1 else []
        self.handle = uuid.uuid4().hex  # how a Prefect task (which takes plain values) finds it
        _open[self.handle] = self

    def submit(self, source: str, month: str) -> Future[list[FileReport]]:
        """Ingest one source's month; months of a source run in the order submitted."""
        args = (*self._args, self._sources[source], month, self._fallback)
        if not self._pools:
            return _Later(lambda: _ingest(*args))
        return self._pools[self._worker[source]].submit(_ingest, *args)

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
