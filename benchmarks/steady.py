"""Benchmark: the steady month a bureau runs. On a home where the loop has run over N months
(ingested, snapshots written, a champion registered), one more month is delivered — taken
from a simulation of the same region over N + 1 months — and `lowinc monthly --month M` is run
on it in its own process: ingest the new month, build the new snapshot, relabel the snapshots
whose labels mature, score, explain, queue, deliver, monitor. Prints wall time, peak memory
(the stage's processes together) and what the pass did.

    .venv/bin/python -m benchmarks.steady --home DIR --households N --months 36 [--next-home DIR2]

The N + 1-month simulation goes to ``--next-home`` (default ``DIR-next``) and is reused when
its files are there; it is set-up, not part of the measure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks import TreeMemory, command_line
from benchmarks.loop import LOWINC, lowinc_env
from lowinc.home import HomeLayout


def deliver_month(source: Path, target: Path, month: str) -> list[Path]:
    """Copy every department's files of ``month`` from one home's raw/ to another's."""
    copied, raw = [], HomeLayout(source).raw
    for folder in sorted(raw.glob(f"*/{month}")):
        dest = HomeLayout(target).raw / folder.parent.name / month
        shutil.copytree(folder, dest, dirs_exist_ok=True)
        copied += sorted(dest.iterdir())
    if not copied:
        sys.exit(f"no delivery for {month} under {raw}: simulate one more month first")
    return copied


def run_measured(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float, dict]:
    """(seconds, peak GiB, JSON result) of one ``lowinc`` command run in its own process."""
    started = time.perf_counter()
    with log.open("w") as err, TreeMemory() as memory:
        proc = subprocess.Popen([LOWINC, *args, "--json"], env=env, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"lowinc {' '.join(args)} failed: see {log}")
    return seconds, max(memory.peak_gib, usage.ru_maxrss / 1024**2), json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, help="a home where the loop ran over --months months")
    parser.add_argument("--households", type=int, required=True)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--start", default="2022-01")
    parser.add_argument("--next-home", default=None)
    args = parser.parse_args()

    home = Path(args.home)
    following = Path(args.next_home or f"{home}-next")
    month = f"{pd.Timestamp(f'{args.start}-01') + pd.DateOffset(months=args.months):%Y-%m}"
    if not any(HomeLayout(following).raw.glob(f"*/{month}")):
        print(f"simulating {args.months + 1} months into {following} (set-up) …", file=sys.stderr, flush=True)
        sim = [LOWINC, "simulate", "--households", str(args.households), "--months", str(args.months + 1)]
        subprocess.run(sim, env=lowinc_env(following), check=True, stdout=subprocess.DEVNULL)
    files = deliver_month(following, home, month)

    seconds, peak, result = run_measured(
        ["monthly", "--month", month], lowinc_env(home), home / "bench-steady.log"
    )
    ingest, features = result.get("ingest", {}), result.get("features", {})
    print(f"command: {command_line('benchmarks.steady')}")
    scale = f"{args.households:,} households, {len(files)} files"
    print(f"| steady month {month} ({scale}) | wall time | peak memory |")
    print("|---|---|---|")
    print(f"| `lowinc monthly --month {month}` | {seconds / 60:.1f} min | {peak:.2f} GiB |")
    print(f"ingest: {json.dumps(ingest, ensure_ascii=False, default=str)}")
    print(f"features: {json.dumps(features, ensure_ascii=False, default=str)}")
    print(f"trained in this pass: {'train' in result}; monitor: {result.get('monitor')}")


if __name__ == "__main__":
    main()
