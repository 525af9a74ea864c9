"""The entitlement check of one as-of date (应救尽救): read the snapshot, check every household
against the configured rules and the policy lines in force, and write
``<home>/scores/as_of=YYYY-MM-01/entitlements.parquet``.

The file carries household keys (keyed hashes), division codes and programme codes only; the
reasons quote amounts and ages, never a name, ID or address. It suggests what a worker offers
at a visit and never decides eligibility.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.store import read_snapshots
from lowinc.divisions import load_divisions
from lowinc.private import write_parquet
from pipelines.score.scores import resolve_as_of
from pipelines.settings import Settings
from scoring.entitlements import (
    NEEDED,
    check_entitlements,
    county_standards,
    likely_eligible_not_receiving,
    programme_counts,
)

COUNT_COLUMNS = (
    "eligible",
    "receiving",
    "eligible_not_receiving",
    "est_monthly_total",
    "est_monthly_not_receiving",
    "est_one_off_not_receiving",
)


@dataclass
class EntitlementRun:
    """What one entitlement check found (the CLI's --json): counts per programme, and per
    county and programme; townships with at least one household likely eligible and not
    receiving."""

    as_of: str
    households: int
    programmes: dict[str, dict[str, float]]
    counties: dict[str, dict[str, dict[str, float]]]
    townships_with_gaps: int
    output: str
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _as_dict(counts: pd.DataFrame) -> dict[str, dict[str, float]]:
    rows = counts.set_index("programme")[list(COUNT_COLUMNS)]
    return {
        str(p): {str(c): (int(v) if c in COUNT_COLUMNS[:3] else round(float(v), 0)) for c, v in row.items()}
        for p, row in rows.iterrows()
    }


def write_entitlements(settings: Settings, as_of: str | None) -> EntitlementRun:
    """Check the snapshot of ``as_of`` (default: the latest) and write the entitlements file
    (replaced whole on a re-run)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ts = resolve_as_of(settings.home, as_of)
    snapshot = read_snapshots(settings.home, [ts], columns=list(NEEDED))
    standards = county_standards(snapshot["county_code"], load_divisions(), settings.policy_lines, ts)
    timings["read"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    found = check_entitlements(snapshot, standards, settings.entitlements)
    timings["check"] = round(time.perf_counter() - t, 2)
    path = write_parquet(found, settings.layout.entitlements_file(ts))
    by_county = programme_counts(found, by=("county_code",))
    return EntitlementRun(
        as_of=f"{ts:%Y-%m-%d}",
        households=len(snapshot),
        programmes=_as_dict(programme_counts(found)),
        counties={
            str(county): _as_dict(part.drop(columns="county_code"))
            for county, part in by_county.groupby("county_code", sort=True)
        },
        townships_with_gaps=int(likely_eligible_not_receiving(found)["town_code"].nunique()),
        output=str(path),
        seconds=timings,
    )
