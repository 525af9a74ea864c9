"""Monitoring on simulated regions: a stable one and one with the simulator's drift scenarios.

    .venv/bin/python -m benchmarks.drift_scenarios [--households 3000] [--seed 21] [--regions stable,drift]

Each region is simulated, ingested and built into snapshots; a model is trained on the first
part of its history; then every later month is scored and monitored as the monthly loop
does (`score` then `monitor`), and the statuses are printed month by month. On the stable
region every amber or red month is a false alarm: the rate is printed. The tests in
tests/integration/test_monitoring_scenarios.py run the same harness on smaller regions.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks import command_line, peak_rss_gib
from features.store import available_as_ofs
from ingest import delivery
from lowinc.home import HomeLayout
from lowinc.pseudonym import load_key
from lowinc.settings import DEFAULT_CONFIG_DIR
from pipelines.features.snapshots import build_one, load_divisions
from pipelines.ingest.workers import ingest_with_workers
from pipelines.monitor.monitor import monitor
from pipelines.score.scores import score_as_of
from pipelines.settings import Settings, load_settings
from pipelines.train.training import train_and_register

START = "2022-01"
# shortened horizon and windows: the first model trains on 18 months, 12 are monitored
SHORT = {
    "features": {"label_horizon": 3},
    "model": {
        "visit_capacity": 60,
        "splits": {"train_months": 6, "validation_months": 3, "test_months": 3},
    },
}
MIN_GROUP_ROWS = 400
FACTORY = {"kind": "factory_closure", "start": "2023-10", "county": "330503", "share": 0.4}
REIMBURSEMENT = {"kind": "reimbursement_cut", "start": "2023-10", "factor": 0.6}


@dataclass
class Region:
    settings: Settings
    trained_through: pd.Timestamp  # the last snapshot built before training
    months: list[pd.Timestamp]  # the as-of dates to monitor


def region_settings(
    home: Path, households: int, seed: int, scenarios: list[dict[str, Any]], **extra: Any
) -> Settings:
    simulation = {
        "households": households,
        "months": 30,
        "start": START,
        "seed": seed,
        "mc_months": [],
        "label_horizon": 3,
        # past the simulator's start-up: households already poor when it starts apply over the
        # first years, so the rate of falls settles only later (a real region has no start)
        "burn_in_months": 36,
        "scenarios": scenarios,
    }
    # a 3,000-household region's counties hold 300-900 cohort households: judged from 400
    monitoring = {"rules": {"min_group_rows": MIN_GROUP_ROWS}}
    return load_settings(home=home, simulation=simulation, **(SHORT | {"monitoring": monitoring} | extra))


def build_region(settings: Settings, train_through: str = "2023-07-01", workers: int = 2) -> Region:
    """Simulate, ingest every month, build snapshots through ``train_through`` and train."""
    from simulator.simulation import simulate  # the benchmark's own: production never imports it

    simulate(settings)
    paths = HomeLayout(settings.home)
    sources = delivery.sources_from(DEFAULT_CONFIG_DIR / "sources")
    months = delivery.delivered_months(paths.raw)
    ingest_with_workers(months, paths, sources, load_key(paths.secure), workers=workers)
    divisions = load_divisions()
    end = pd.Timestamp(train_through)
    first = pd.Timestamp(f"{START}-01") + pd.DateOffset(months=1)
    for as_of in pd.date_range(first, end, freq="MS"):
        build_one(settings, as_of, divisions=divisions)
    train_and_register(settings)
    last = pd.Timestamp(f"{months[-1]}-01") + pd.DateOffset(months=1)
    monitored = list(pd.date_range(end + pd.DateOffset(months=1), last, freq="MS"))
    return Region(settings, end, monitored)


def run_months(
    region: Region, months: int | None = None, before: Callable[[pd.Timestamp], None] | None = None
) -> list[dict[str, Any]]:
    """Build, score and monitor each later month in turn (the first ``months`` of them);
    ``before(as_of)`` runs ahead of each. Returns the monitor summaries."""
    settings = region.settings
    divisions = load_divisions()
    out = []
    for as_of in region.months[:months]:
        if before is not None:
            before(as_of)
        if as_of not in available_as_ofs(settings.home):
            build_one(settings, as_of, divisions=divisions)
        score_as_of(settings, f"{as_of:%Y-%m-%d}")
        out.append(monitor(settings, f"{as_of:%Y-%m-%d}"))
    return out


def findings_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    return list(result["models"][0]["findings"])


def print_statuses(name: str, results: list[dict[str, Any]]) -> None:
    print(f"\n{name}")
    for r in results:
        top = "; ".join(f["text"] for f in findings_of(r)[:3])
        print(f"  {r['as_of'][:7]} {r['status']:<5} score PSI {r['models'][0]['score_psi']:.3f}  {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--home", default=None, help="a folder to keep the homes in (default: temporary)")
    parser.add_argument("--regions", default="stable,drift", help="stable, drift or both")
    args = parser.parse_args()
    import tempfile

    root = Path(args.home or tempfile.mkdtemp(prefix="drift-scenarios-"))
    os.environ.setdefault("LOWINC_OUTREACH__CHANNELS__EMAIL__ENABLED", "false")
    print(f"command: {command_line('benchmarks.drift_scenarios')}")
    regions = {"stable": [], "drift": [FACTORY, REIMBURSEMENT]}
    for name in args.regions.split(","):
        scenarios = regions[name]
        started = time.perf_counter()
        home = root / name
        region = build_region(region_settings(home, args.households, args.seed, scenarios))
        results = run_months(region)
        print_statuses(
            f"{name} {[sc['kind'] for sc in scenarios]}: {args.households:,} households, "
            f"monitored {len(results)} months ({time.perf_counter() - started:.0f} s)",
            results,
        )
        if not scenarios:
            alarms = sum(r["status"] != "green" for r in results)
            print(f"  false-alarm rate: {alarms}/{len(results)} months amber or red")
    print(f"peak memory (RSS): {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
