"""Shared integration fixtures: one small simulated and ingested region for later stages.

``ingested_region`` simulates 2,000 households for 14 months from 2022-01 into a temporary
home and ingests every month with the real ingest functions (no Prefect), once per session.
Validation costs a near-constant time per file, so the months' files are read in two
processes (each month's files stand alone) and then linked month by month in order, as
``lowinc ingest --all`` does.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import delivery
from ingest.report import FileReport
from lowinc.home import HomeLayout
from lowinc.pseudonym import load_key
from lowinc.settings import DEFAULT_CONFIG_DIR
from pipelines.settings import Settings, load_settings
from simulator.simulation import simulate

WORKERS = min(2, os.cpu_count() or 1)

REGION = {
    "households": 2000,
    "months": 14,
    "start": "2022-01",
    "seed": 11,
    # fewer Monte Carlo paths than the default keeps the fixture fast; p_fall stays sampled
    "mc_households": 300,
    "mc_paths": 40,
    "mc_months": ["2022-07"],
}


@dataclass(frozen=True)
class IngestedRegion:
    """A simulated home with canonical tables; ``settings`` points at it."""

    home: Path
    settings: Settings
    months: list[str]


def build_region(home: Path) -> IngestedRegion:
    settings = load_settings(home=home, simulation=REGION)
    simulate(settings)
    paths = HomeLayout(home)
    sources = delivery.sources_from(DEFAULT_CONFIG_DIR / "sources")
    key = load_key(paths.secure)  # the home's own key, as `lowinc ingest` uses
    months = delivery.delivered_months(paths.raw)
    if WORKERS == 1:
        reports = read_months(home, months, key)
    else:
        shares = [months[i::WORKERS] for i in range(WORKERS)]
        reports = {}
        with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
            for done in pool.map(read_months, [home] * WORKERS, shares, [key] * WORKERS):
                reports |= done
    for month in months:
        delivery.finish_month(sources, month, paths, reports[month], key)
    return IngestedRegion(home=home, settings=settings, months=months)


def read_months(home: Path, months: list[str], key: bytes) -> dict[str, list[FileReport]]:
    """Read, validate and write every source of some months (a worker process's share)."""
    paths = HomeLayout(home)
    sources = delivery.sources_from(DEFAULT_CONFIG_DIR / "sources")
    return {
        m: [r for src in sources.values() for r in delivery.ingest_source(src, m, paths, key)] for m in months
    }


@pytest.fixture(scope="session")
def ingested_region(tmp_path_factory) -> IngestedRegion:
    return build_region(tmp_path_factory.mktemp("ingested_region"))
