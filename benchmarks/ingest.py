"""Benchmark: ingest every simulated month and, in the same run, a bare pyarrow read.

    .venv/bin/python -m benchmarks.simulate --households 1000000 --months 36 --home DIR
    .venv/bin/python -m benchmarks.ingest --home DIR

The ingest makes the same call as ``lowinc ingest --all``
(pipelines.ingest.workers.ingest_with_workers: the sources in worker processes, each month
linked as soon as its sources are done). The bare read is what pyarrow alone (openpyxl for
Excel) takes to read the same delivered files:
pyarrow.csv in each file's declared encoding, pyarrow.parquet, openpyxl in read-only mode.
It runs first, so the ingest finds the files in the page cache too. The ingest wall time
includes importing Great Expectations and making its context (printed apart: it is paid
once per process, and is slow where no bytecode cache is written). Peak memory is the
largest resident memory of all the run's processes together (sampled from /proc every
0.2 s), and beside it each one's own peak (getrusage).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from benchmarks import TreeMemory, command_line, peak_rss_gib
from ingest import delivery
from ingest.suites import default_runner
from lowinc.pseudonym import load_key
from lowinc.sources import FileSpec, SourceSpec
from pipelines.ingest.workers import ingest_with_workers, worker_count
from pipelines.settings import load_settings

ARROW_ENCODING = {"utf-8": "utf8", "utf-8-sig": "utf8", "gb18030": "gb18030"}


def bare_read(path: Path, spec: FileSpec) -> int:
    """Read one delivered file with pyarrow (openpyxl for xlsx); its data rows."""
    if spec.format == "parquet":
        return pq.read_table(path).num_rows
    if spec.format == "csv":
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=ARROW_ENCODING[spec.encoding], skip_rows=spec.header_row - 1
            ),
            parse_options=pacsv.ParseOptions(delimiter=spec.delimiter),
        )
        return table.num_rows
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[spec.sheet] if spec.sheet and spec.sheet in wb.sheetnames else wb.worksheets[0]
        rows = sum(1 for _ in ws.iter_rows(values_only=True))
    finally:
        wb.close()
    return max(rows - spec.header_row, 0)


def bare_read_all(sources: dict[str, SourceSpec], months: list[str], raw: Path) -> tuple[float, int, int]:
    """(seconds, files read, rows) for every delivered file of every month."""
    started = time.perf_counter()
    files = rows = 0
    for month in months:
        for src in sources.values():
            for spec in src.files:
                for path in delivery.delivered_files(raw / src.source / month, spec):
                    # a file in the wrong encoding may fail: the time spent still counts
                    with contextlib.suppress(pa.ArrowInvalid, UnicodeDecodeError, ValueError):
                        rows += bare_read(path, spec)
                    files += 1
    return time.perf_counter() - started, files, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, help="project home with a simulated raw/ folder")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: settings, one per core)"
    )
    args = parser.parse_args()
    settings = load_settings(home=args.home)
    paths = settings.layout
    sources = delivery.sources_from(settings.sources_dir)
    months = delivery.delivered_months(paths.raw)
    if not months:
        sys.exit(f"no deliveries under {paths.raw}: run benchmarks.simulate --home {args.home} first")
    key = load_key(paths.secure)

    bare, n_files, bare_rows = bare_read_all(sources, months, paths.raw)

    workers = worker_count(
        args.workers if args.workers is not None else settings.ingest.workers, len(sources)
    )
    started = time.perf_counter()
    default_runner()._get_context()  # the one-off GX import and context, timed on its own too
    setup = time.perf_counter() - started
    with TreeMemory() as memory:
        reports = ingest_with_workers(
            months,
            paths,
            sources,
            key,
            workers=workers,
            fallback_dates=settings.ingest.fallback_dates,
            on_month=lambda r: print(
                f"  {r.month} {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True
            ),
        )
    wall = time.perf_counter() - started
    peak_gib = peak_rss_gib()
    children_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    rows_in = sum(f.rows_in for r in reports for f in r.files)
    command = command_line("benchmarks.ingest")
    print(f"command: {command}")
    print(f"months: {len(months)}  files: {n_files}  rows in: {rows_in:,} (bare read rows: {bare_rows:,})")
    print(f"ingest wall time: {wall:.1f} s with {workers} worker process(es)")
    print(f"  of which one-off GX import and context in the main process: {setup:.1f} s")
    print(f"bare pyarrow read: {bare:.1f} s")
    print(f"ratio ingest / bare read: {wall / bare:.1f}x")
    print(f"rows/second: {rows_in / wall:,.0f}")
    print(
        f"peak memory (RSS): {memory.peak_gib:.2f} GiB all processes together "
        f"(main process {peak_gib:.2f} GiB, largest worker {children_gib:.2f} GiB)"
    )


if __name__ == "__main__":
    main()
