"""The monthly loop as one Prefect flow: each stage a subflow, run in order.

Stages join as they land: ingest → features → train → score → deliver.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from pipelines.ingest.flow import ingest_flow


def ingest_totals(reports: list[dict[str, Any]]) -> dict[str, int]:
    """Sum of the month reports' totals (files and rows)."""
    totals: dict[str, int] = {"months": len(reports)}
    for report in reports:
        for key, value in report["totals"].items():
            totals[key] = totals.get(key, 0) + value
    return totals


@flow(name="lowinc-loop")
def loop_flow(month: str | None = None) -> dict[str, Any]:
    """Ingest every delivered month (or one), then the later stages."""
    reports = ingest_flow(month=month, all_months=month is None)
    return {"ingest": ingest_totals(reports)}
