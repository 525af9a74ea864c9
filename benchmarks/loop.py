"""Benchmark: the whole monthly loop for a region of N households, stage by stage, each stage
the same `lowinc` command a data team runs, in its own process; prints a table of wall time
and peak memory (the stage's processes together, sampled from /proc, and at least the stage
process's own maximum resident set size from wait4).

    .venv/bin/python -m benchmarks.loop --households 20000 --months 36 --home DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks import TreeMemory, command_line

LOWINC = str(Path(sys.executable).parent / "lowinc")


def run_stage(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """(seconds, peak GiB) of one `lowinc` command; its stderr goes to ``log``. The peak is
    the stage's processes together (ingest's worker processes included)."""
    started = time.perf_counter()
    with log.open("w") as err, TreeMemory() as memory:
        proc = subprocess.Popen([LOWINC, *args, "--json"], env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"lowinc {' '.join(args)} failed: see {log}")
    return seconds, max(memory.peak_gib, usage.ru_maxrss / 1024**2)


def lowinc_env(home: str | Path, **extra: str) -> dict[str, str]:
    """This process's environment without any ``LOWINC_*`` variable, with ``LOWINC_HOME=home``
    and the given extra ``LOWINC_*`` variables: the stages see the embedded configuration only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOWINC_")}
    return env | {"LOWINC_HOME": str(home)} | extra


def last_as_of(start: str, months: int) -> pd.Timestamp:
    """The latest as-of date the data of ``months`` months from ``start`` (YYYY-MM) allows."""
    return pd.Timestamp(f"{start}-01") + pd.DateOffset(months=months)


def loop_stages(households: int, months: int, start: str) -> list[tuple[str, list[str]]]:
    """The loop's stages as (name, ``lowinc`` arguments): simulate, ingest every month, every
    monthly feature snapshot the data allows, train, score the latest as-of."""
    first = pd.Timestamp(f"{start}-01")
    latest = last_as_of(start, months)
    return [
        ("simulate", ["simulate", "--households", str(households), "--months", str(months)]),
        ("ingest", ["ingest", "--all"]),
        (
            "features",
            [
                "features",
                "--from",
                f"{first + pd.DateOffset(months=1):%Y-%m-%d}",
                "--to",
                f"{latest:%Y-%m-%d}",
            ],
        ),
        ("train", ["train"]),
        ("score, queue, deliver", ["score", "--as-of", f"{latest:%Y-%m-%d}"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--start", default="2022-01")
    parser.add_argument("--home", required=True)
    args = parser.parse_args()

    env = lowinc_env(args.home)
    stages = loop_stages(args.households, args.months, args.start)
    Path(args.home).mkdir(parents=True, exist_ok=True)
    rows = []
    for name, stage in stages:
        seconds, peak = run_stage(stage, env, Path(args.home) / f"bench-{stage[0]}.log")
        rows.append((name, seconds, peak))
        print(f"  {name}: {seconds:.1f} s, {peak:.2f} GiB", file=sys.stderr, flush=True)

    print(f"command: {command_line('benchmarks.loop')}")
    print(f"| stage ({args.households:,} households × {args.months} months) | wall time | peak memory |")
    print("|---|---|---|")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds / 60:.1f} min | {peak:.2f} GiB |")
    total = sum(r[1] for r in rows)
    print(f"| whole loop | {total / 60:.1f} min | {max(r[2] for r in rows):.2f} GiB |")


if __name__ == "__main__":
    main()
