"""Benchmark: monitor one month at city scale (issue goal: 1,000,000 households in at most 60 s
and 2 GB).

    .venv/bin/python -m benchmarks.monitor [--households 1000000] [--source HOME] [--work DIR]

A small simulated region (benchmarks.drift_scenarios: simulated, ingested, trained, scored)
is the source; its snapshots at the monitored month T and at T - H (whose labels have
matured) are resampled to ``--households`` cohort households with new keys, scored by its
champion, and a challenger is registered beside it, so the month monitored does everything a
steady month does: drift of the champion and of the shadow-scored challenger, both matured
months' outcomes, data quality, field figures, MLflow logging, the report and plots. The
monitor stage then runs in a fresh process of its own, whose time and peak memory are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import command_line, peak_rss_gib
from benchmarks.drift_scenarios import build_region, region_settings, run_months
from features.store import available_as_ofs, read_snapshots, write_snapshot
from lowinc.home import HomeLayout
from models.registry import CHALLENGER, load_champion
from models.tracking import configure
from pipelines.features.snapshots import build_one
from pipelines.monitor.inputs import write_shadow
from pipelines.settings import Settings
from scoring.tiers import assign_tiers

MONTH = pd.Timestamp("2023-11-01")  # a month of the source's history whose T - 3 is later than its training


def scale_snapshot(source: Settings, target: Path, as_of: pd.Timestamp, households: int, seed: int) -> None:
    if as_of not in available_as_ofs(source.home):
        build_one(source, as_of)
    frame = read_snapshots(source.home, [as_of])
    cohort = frame.loc[frame["in_cohort"].to_numpy(bool)]
    rng = np.random.default_rng(seed)
    big = cohort.iloc[rng.integers(0, len(cohort), households)].reset_index(drop=True)
    big["household_key"] = [f"bench{seed}-{i:08d}" for i in range(households)]
    write_snapshot(target, as_of, big, None)


def write_scores(settings: Settings, as_of: pd.Timestamp) -> None:
    """The scores file as the scoring stage writes it (no SHAP: monitoring reads risk and tier)."""
    model = load_champion(settings.model, settings.home)
    snap = read_snapshots(settings.home, [as_of])
    risk = model.predict_risk(snap)
    tiers = assign_tiers(snap, risk, settings.scoring)
    scores = pd.concat([snap[["household_key", "as_of", "county_code"]], tiers], axis=1)
    scores["model_version"] = str(model.version)
    folder = settings.layout.scores_at(as_of)
    folder.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(settings.layout.scores_file(as_of), index=False)


def prepare(source: Settings, work: Path, households: int) -> Settings:
    target = work / "city"
    shutil.rmtree(target, ignore_errors=True)
    for name in ("mlflow", "secure"):
        shutil.copytree(source.layout.root / name, target / name)
    shutil.copytree(source.layout.ingest_reports, HomeLayout(target).ingest_reports)
    settings = source.model_copy(update={"home": target})
    horizon = settings.features.label_horizon
    for i, as_of in enumerate([MONTH - pd.DateOffset(months=horizon), MONTH]):
        scale_snapshot(source, target, as_of, households, seed=i)
        write_scores(settings, as_of)
    client = configure(settings.model, target)
    champion = client.get_model_version_by_alias(settings.model.name, "champion")
    challenger = client.create_model_version(settings.model.name, champion.source, champion.run_id)
    client.set_registered_model_alias(settings.model.name, CHALLENGER, challenger.version)
    matured = MONTH - pd.DateOffset(months=horizon)  # the challenger shadow-scored it then
    scores = pd.read_parquet(settings.layout.scores_file(matured), columns=["household_key", "risk"])
    write_shadow(
        settings.layout, matured, str(challenger.version), scores["household_key"], scores["risk"].to_numpy()
    )
    return settings


def high_water_gib() -> float:
    """This process's peak resident memory (VmHWM), in GiB. Not getrusage's ru_maxrss: Linux
    carries that over from the parent across fork and exec, so a child started by a big
    process would report the parent's peak."""
    status = Path("/proc/self/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return kib / 1024**2


def measure(settings: Settings) -> dict[str, Any]:
    """Run the monitor stage in a process of its own; its wall time and peak RSS."""
    code = (
        "import json, sys, time; from benchmarks.monitor import high_water_gib; "
        "from pipelines.settings import load_settings; from pipelines.monitor.monitor import monitor; "
        "s = load_settings(**json.loads(sys.argv[1])); t = time.perf_counter(); "
        f"r = monitor(s, '{MONTH:%Y-%m-%d}'); "
        "print(json.dumps({'seconds': time.perf_counter() - t, 'peak_gib': high_water_gib(), "
        "'status': r['status'], 'models': len(r['models']), "
        "'realised': sum('realised' in m for m in r['models']), "
        "'findings': [f['text'] for f in r['models'][0]['findings']][:3]}))"
    )
    overrides = {"home": str(settings.home), "features": {"label_horizon": settings.features.label_horizon}}
    overrides |= {"model": settings.model.model_dump(mode="json", exclude={"tracking_uri"})}
    overrides |= {"monitoring": settings.monitoring.model_dump(mode="json")}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(overrides)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--source", default=None, help="a home built by this benchmark before (reused)")
    parser.add_argument("--work", default=None, help="folder for the homes (default: temporary)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="monitor-bench-"))
    started = time.perf_counter()
    source_home = Path(args.source) if args.source else work / "source"
    settings = region_settings(source_home, 3000, 21, [])
    if not args.source:
        region = build_region(settings)
        run_months(region, months=2)
    city = prepare(settings, work, args.households)
    built = time.perf_counter() - started
    result = measure(city)
    print(f"command: {command_line('benchmarks.monitor')}")
    print(
        f"monitor one month, {args.households:,} cohort households (champion + shadow challenger, "
        f"{int(result['realised'])} matured): {result['seconds']:.1f} s, peak memory "
        f"{result['peak_gib']:.2f} GiB (the monitor process); status {result['status']} {result['findings']}"
    )
    print(f"(building the homes took {built:.0f} s; this process peaked at {peak_rss_gib():.2f} GiB)")


if __name__ == "__main__":
    main()
