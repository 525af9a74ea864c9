"""Benchmark: simulate a large region and print wall time and peak memory.

    .venv/bin/python -m benchmarks.simulate --households 1000000 --months 36

Peak memory is the maximum resident set size of this process (getrusage), which
includes everything the simulation and the writers hold at once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from benchmarks import command_line, peak_rss_gib
from pipelines.settings import load_settings
from simulator.simulation import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--home", default=None, help="project home to write into (default: a temp dir)")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="lowinc-bench-")
    settings = load_settings(home=home, simulation={"households": args.households, "months": args.months})
    started = time.perf_counter()
    last = [started]

    def tick(month: str, done: int, total: int) -> None:
        now = time.perf_counter()
        print(f"  {month} {done}/{total} {now - last[0]:.1f}s", file=sys.stderr, flush=True)
        last[0] = now

    summary = simulate(settings, progress=tick)
    wall = time.perf_counter() - started
    peak_gib = peak_rss_gib()
    command = command_line("benchmarks.simulate")
    print(f"command: {command}")
    print(f"households: {args.households:,}  months: {args.months}  people at end: {summary['people_end']:,}")
    print(f"files: {summary['files_written']}  defects injected: {summary['defects_injected']:,}")
    print(f"wall time: {wall / 60:.1f} min  peak memory (RSS): {peak_gib:.2f} GiB")
    print("base rates:", {k: round(v, 4) for k, v in summary["rates"].items()})


if __name__ == "__main__":
    main()
