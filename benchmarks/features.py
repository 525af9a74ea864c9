"""Benchmark: feature snapshots of an ingested region, one or a monthly range.

    .venv/bin/python -m benchmarks.simulate --households 1000000 --months 36 --home DIR
    .venv/bin/python -m benchmarks.ingest --home DIR
    .venv/bin/python -m benchmarks.features --home DIR --as-of 2023-06-01
    .venv/bin/python -m benchmarks.features --home DIR --from 2022-07-01 --to 2024-06-01
    .venv/bin/python -m benchmarks.features --home DIR --from 2024-06-01 --to 2024-12-01 --relabel

Makes the same calls as ``lowinc features`` (pipelines.features.snapshots.build_one per as-of
date; with ``--relabel``, relabel_one: the labels of written snapshots brought up to date, as
the monthly loop does for those whose labels mature) and prints the wall time per snapshot
and in all (read / build / truth / write, or read / relabel / write), and the peak resident
memory of the process (getrusage).
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import command_line, peak_rss_gib
from pipelines.features import snapshots
from pipelines.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, help="project home with an ingested canonical/ folder")
    parser.add_argument("--as-of", dest="as_of", help="one as-of date, the 1st of a month")
    parser.add_argument("--from", dest="start", help="first as-of date of a monthly range")
    parser.add_argument("--to", dest="end", help="last as-of date of a monthly range")
    parser.add_argument("--relabel", action="store_true", help="only the labels of written snapshots")
    args = parser.parse_args()
    if args.as_of:
        as_ofs = snapshots.as_of_range(args.as_of, args.as_of)
    elif args.start and args.end:
        as_ofs = snapshots.as_of_range(args.start, args.end)
    else:
        sys.exit("give --as-of, or --from and --to")
    settings = load_settings(home=args.home)
    started = time.perf_counter()
    divisions = snapshots.load_divisions()
    summaries = []
    for t in as_ofs:
        run = snapshots.relabel_one if args.relabel else snapshots.build_one
        s = run(settings, t, divisions=divisions)
        summaries.append(s)
        print(
            f"  {s.as_of}: {s.rows:,} households, cohort {s.cohort:,}, positives {s.positives:,}, "
            f"{s.seconds['total']:.1f}s {s.seconds}  peak {peak_rss_gib():.2f} GiB",
            file=sys.stderr,
            flush=True,
        )
    wall = time.perf_counter() - started
    rows = sum(s.rows for s in summaries)
    print(f"command: {command_line('benchmarks.features')}")
    print(f"snapshots: {len(summaries)}  rows: {rows:,}  columns: {summaries[-1].columns}")
    print(f"wall time: {wall:.1f} s ({wall / len(summaries):.1f} s per snapshot)")
    parts = dict.fromkeys(k for s in summaries for k in s.seconds if k != "total")
    for part in parts:
        print(f"  {part}: {sum(s.seconds.get(part, 0.0) for s in summaries):.1f} s")
    if args.relabel:
        print(f"relabelled in place: {sum(s.relabelled for s in summaries)} of {len(summaries)}")
    print(f"peak memory (RSS): {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
