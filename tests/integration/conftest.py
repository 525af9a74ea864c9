"""Shared integration fixtures: one small simulated and ingested region for later stages.

``ingested_region`` simulates 2,000 households for 14 months from 2022-01 into a temporary
home and ingests every month as ``lowinc ingest --all`` does (the same orchestration and
table workers, no Prefect), once per session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import delivery
from lowinc.home import HomeLayout
from lowinc.pseudonym import load_key
from lowinc.settings import DEFAULT_CONFIG_DIR
from pipelines.ingest.workers import ingest_with_workers
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
    ingest_with_workers(months, paths, sources, key, workers=WORKERS)  # as `lowinc ingest --all`
    return IngestedRegion(home=home, settings=settings, months=months)


@pytest.fixture(scope="session")
def ingested_region(tmp_path_factory) -> IngestedRegion:
    return build_region(tmp_path_factory.mktemp("ingested_region"))
