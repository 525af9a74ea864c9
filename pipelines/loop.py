"""The monthly loop as one Prefect flow: ingest → features → (train) → score → deliver.

Each stage is a subflow and idempotent, so a re-run after a failure (or a killed worker)
redoes only what is missing and ends in the same state:

- ingest: the delivery months asked for (default: every delivered month not ingested yet;
  ``all_months`` re-reads all), with later months re-ingested when an earlier one arrives;
- features: every as-of date from the first delivery + 1 month to the scoring date (the 1st
  of the month after the last ingested one) that has no snapshot yet; of the last
  ``label_horizon`` + 1, whose labels mature as months arrive, only the labels are brought up
  to date, unless a month before their as-of date was (re-)ingested in this pass, when they
  are built again whole;
- train: when asked, or when no champion is registered yet (the promotion rule decides
  whether the new model serves);
- score: the latest snapshot with the champion; the visit list goes to the outreach stage;
- monitor: drift, outcomes and data quality of the scored month to MLflow; a red month tells
  the model owners and, with ``monitoring.retrain_on_red``, starts a training run (the
  promotion rule decides whether it serves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from prefect import flow

from features.store import available_as_ofs
from ingest import delivery
from lowinc.home import HomeLayout
from lowinc.months import check_month
from lowinc.runtime import private_run
from models.registry import champion_version
from models.tracking import configure
from pipelines.features.flow import features_flow
from pipelines.ingest.flow import ingest_flow
from pipelines.monitor.flow import monitor_flow
from pipelines.notify import FAILURE_HOOKS
from pipelines.score.flow import score_flow
from pipelines.settings import Settings, load_settings
from pipelines.train.flow import train_flow


def ingest_totals(reports: list[dict[str, Any]]) -> dict[str, int]:
    """Sum of the month reports' totals (files and rows)."""
    totals: dict[str, int] = {"months": len(reports)}
    for report in reports:
        for key, value in report["totals"].items():
            totals[key] = totals.get(key, 0) + value
    return totals


def months_due(paths: HomeLayout, all_months: bool) -> list[str]:
    """Delivered months to ingest: all, or those without an ingest report yet."""
    delivered = delivery.delivered_months(paths.raw)
    if all_months:
        return delivered
    done = set(delivery.ingested_months(paths))
    return [m for m in delivered if m not in done]


@dataclass(frozen=True)
class SnapshotsDue:
    """What the features stage does in one pass: as-of dates (YYYY-MM-01) to build whole, and
    written ones whose labels only are brought up to date; the scoring as-of date."""

    build: list[str]
    relabel: list[str]
    scoring: str | None


def snapshots_due(settings: Settings, ingested: list[str], fresh: list[str] | None = None) -> SnapshotsDue:
    """The snapshots due from the ingested months; ``fresh``: the months (re-)ingested in this
    pass (default: all), whose rows a snapshot after them was built without."""
    if not ingested:
        return SnapshotsDue([], [], None)
    first = pd.Timestamp(f"{ingested[0]}-01") + pd.DateOffset(months=1)
    scoring = pd.Timestamp(f"{ingested[-1]}-01") + pd.DateOffset(months=1)
    wanted = pd.date_range(first, scoring, freq="MS")
    have = set(available_as_ofs(settings.home))
    maturing = set(wanted[-(settings.features.label_horizon + 1) :])
    changed = min(fresh if fresh is not None else ingested, default=None)
    # a snapshot at T reads months before T as features: a (re-)ingested month before T changes them
    stale = {t for t in have if changed is not None and t > pd.Timestamp(f"{changed}-01")}
    build = [t for t in wanted if t not in have or (t in maturing and t in stale)]
    relabel = [t for t in wanted if t in have and t in maturing and t not in stale]
    return SnapshotsDue(
        [f"{t:%Y-%m-%d}" for t in build], [f"{t:%Y-%m-%d}" for t in relabel], f"{scoring:%Y-%m-%d}"
    )


def has_champion(settings: Settings) -> bool:
    """Whether the registry has a champion (by alias; the model itself is not loaded)."""
    return champion_version(configure(settings.model, settings.home), settings.model.name) is not None


@flow(name="lowinc-monthly", **FAILURE_HOOKS)
def monthly_flow(month: str | None = None, all_months: bool = False, retrain: bool = False) -> dict[str, Any]:
    """One pass of the loop. ``month``: ingest that delivery month only."""
    if month is not None:
        check_month(month)  # before anything is read or written
    settings = load_settings()
    private_run(settings.layout)  # a worker's flow run: personal data owner-only whatever its umask
    paths = settings.layout
    months = [month] if month else months_due(paths, all_months)
    reports = ingest_flow(months=months) if months else []
    result: dict[str, Any] = {"ingest": ingest_totals(reports)}
    due = snapshots_due(settings, delivery.ingested_months(paths), fresh=[r["month"] for r in reports])
    scoring_as_of = due.scoring
    relabelled = [s for t in due.relabel for s in features_flow(as_of=t, relabel=True)]
    built = [s for t in due.build for s in features_flow(as_of=t)]
    result["features"] = {
        "snapshots_built": len(built) + sum(not s["relabelled"] for s in relabelled),
        "snapshots_relabelled": sum(s["relabelled"] for s in relabelled),
        "scoring_as_of": scoring_as_of,
        "cohort": built[-1]["cohort"] if built else None,
    }
    if retrain or not has_champion(settings):
        result["train"] = train_flow()
    if scoring_as_of:
        result.update(score_flow(as_of=scoring_as_of))
        monitored = monitor_flow(as_of=scoring_as_of)
        result["monitor"] = {"status": monitored["status"], "as_of": monitored["as_of"]}
        if monitored["status"] == "red" and settings.monitoring.retrain_on_red and "train" not in result:
            result["train"] = train_flow()
    return result
