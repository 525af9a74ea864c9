"""Build and write snapshots: read canonical rows, build (pure), attach truth, write.

Plain functions; the Prefect flow and the CLI call these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features import store
from features.snapshot import (
    SNAPSHOT_COLUMNS,
    Canonical,
    MembershipChanged,
    build_snapshot,
    check_snapshot,
    relabel,
)
from features.timeline import add_months, as_of_date, month_label
from features.truth import latent_truth
from ingest.store import months_of
from lowinc.divisions import load_divisions
from lowinc.errors import BadValue, UserError
from lowinc.home import HomeLayout
from lowinc.pseudonym import load_key, pseudonymise
from pipelines.features.inputs import (
    LABEL_TABLES,
    delivered_through,
    load_canonical,
    months_between,
    read_table,
)
from pipelines.settings import Settings


@dataclass
class SnapshotSummary:
    """What one snapshot run produced, for the CLI, the flow and the benchmark."""

    as_of: str
    rows: int
    columns: int
    cohort: int
    positives: int
    label_complete: bool
    path: str
    truth_rows: int
    seconds: dict[str, float] = field(default_factory=dict)
    visit_labels: int = 0  # households listed at this as-of date with a visit label
    explored_visit_labels: int = 0  # of which listed by exploration (probability below 1)
    relabelled: bool = False  # only the labels were brought up to date (features as built)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def truth_for(home: Path, frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """The simulator's latent truth for a snapshot, or None when the home has no truth."""
    truth = HomeLayout(home).truth
    latent_path = truth / "latent_labels.parquet"
    if not latent_path.exists():
        return None
    key = load_key(HomeLayout(home).secure)
    latent = pd.read_parquet(latent_path)
    fp_path = truth / "fall_probability.parquet"
    fall = (
        pd.read_parquet(fp_path) if fp_path.exists() else pd.DataFrame(columns=["as_of", "hh_no", "p_fall"])
    )
    return latent_truth(
        frame["household_key"], as_of, latent, fall, lambda codes: pseudonymise(codes, key, "household")
    )


def recorded_visits(settings: Settings) -> pd.DataFrame | None:
    """Visit outcomes social workers recorded in the outreach database (they flow back as
    labels): each with the alert's month and the probability it was listed with, from which
    the snapshot at that month takes its visit label and weight (features/labels.py); None when
    there is no outreach database yet."""
    from outreach.db import upgrade
    from outreach.outcomes import visit_outcomes

    cfg = settings.outreach
    if cfg.database_url is None and not settings.layout.outreach_db.exists():
        return None
    engine = upgrade(cfg.url_for(settings.home))
    try:
        return visit_outcomes(engine)
    finally:
        engine.dispose()


def build_one(
    settings: Settings,
    as_of: str | pd.Timestamp,
    divisions: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
) -> SnapshotSummary:
    """Build and write the snapshot at one as-of date (the 1st of a month)."""
    t = as_of_date(as_of)
    home = Path(settings.home)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    divisions = load_divisions() if divisions is None else divisions
    visits = recorded_visits(settings) if visits is None else visits
    cfg = settings.features
    require_delivered(settings.layout.canonical, t)
    tables = load_canonical(settings.layout.canonical, t, cfg.label_horizon)
    timings["read"] = time.perf_counter() - started
    mark = time.perf_counter()
    frame = build_snapshot(tables, t, cfg, settings.policy_lines, divisions, visits)
    check_snapshot(frame)
    timings["build"] = time.perf_counter() - mark
    mark = time.perf_counter()
    truth = truth_for(home, frame, t)
    timings["truth"] = time.perf_counter() - mark
    mark = time.perf_counter()
    path = store.write_snapshot(home, t, frame, truth)
    timings["write"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    cohort = frame["in_cohort"].to_numpy()
    return SnapshotSummary(
        as_of=f"{t:%Y-%m-%d}",
        rows=len(frame),
        columns=frame.shape[1],
        cohort=int(cohort.sum()),
        positives=int(frame["label"].fillna(False).sum()),
        label_complete=bool(frame["label_complete"].all()) if len(frame) else False,
        path=str(path),
        truth_rows=0 if truth is None else int(truth["latent_fall"].notna().sum()),
        seconds={k: round(v, 2) for k, v in timings.items()},
        visit_labels=int(frame["visit_label"].notna().sum()),
        explored_visit_labels=int((frame["visit_weight"].to_numpy(float) > 1.0).sum()),
    )


def relabel_one(
    settings: Settings,
    as_of: str | pd.Timestamp,
    divisions: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
) -> SnapshotSummary:
    """Bring the labels of the written snapshot at T up to date (deliveries of the months
    after T arrive, visit outcomes are recorded), leaving its features as built: only the
    membership before T and the label tables' months T .. T+H-1 are read. A snapshot that is
    missing, of other columns, or whose membership changed since is built again whole."""
    t = as_of_date(as_of)
    home = Path(settings.home)
    written = store.read_snapshots(home, [t], columns=["household_key", "in_cohort"])
    if written.empty or store.snapshot_columns(home, t) != SNAPSHOT_COLUMNS:
        return build_one(settings, t, divisions, visits)
    started = time.perf_counter()
    visits = recorded_visits(settings) if visits is None else visits
    canonical = settings.layout.canonical
    horizon = settings.features.label_horizon
    before = month_label(add_months(t, -1))
    membership = [m for m in months_of(canonical, "households") if m <= before][-1:]
    after = months_between(t, add_months(t, horizon - 1))
    tables = Canonical(
        households=read_table(canonical, "households", membership),
        delivered_through=delivered_through(canonical),
    ).replace({name: read_table(canonical, name, after) for name in LABEL_TABLES})
    read = time.perf_counter() - started
    try:
        labels = relabel(
            tables.households,
            written["household_key"],
            written["in_cohort"].to_numpy(bool),
            tables,
            t,
            horizon,
            visits,
        )
    except MembershipChanged:
        return build_one(settings, t, divisions, visits)
    mark = time.perf_counter()
    path = store.rewrite_labels(home, t, labels.assign(household_key=written["household_key"].to_numpy()))
    write = time.perf_counter() - mark
    weight = labels["visit_weight"].to_numpy(float)
    return SnapshotSummary(
        as_of=f"{t:%Y-%m-%d}",
        rows=len(written),
        columns=len(SNAPSHOT_COLUMNS),
        cohort=int(written["in_cohort"].sum()),
        positives=int(labels["label"].fillna(False).sum()),
        label_complete=bool(labels["label_complete"].all()) if len(labels) else False,
        path=str(path),
        truth_rows=store.truth_rows(home, t),
        seconds={
            "read": round(read, 2),
            "relabel": round(mark - started - read, 2),
            "write": round(write, 2),
            "total": round(time.perf_counter() - started, 2),
        },
        visit_labels=int(labels["visit_label"].notna().sum()),
        explored_visit_labels=int((weight > 1.0).sum()),
        relabelled=True,
    )


class NotDelivered(UserError, ValueError):
    """The month before an as-of date has not been ingested: a snapshot would be stale."""


def require_delivered(canonical: Path, as_of: pd.Timestamp) -> None:
    needed = month_label(add_months(as_of, -1))
    have = months_of(canonical, "households")
    if needed not in have:
        last = have[-1] if have else "nothing"
        raise NotDelivered(
            f"a snapshot at {as_of:%Y-%m-%d} needs the deliveries of {needed} ingested (have up to {last})",
            hint=f"lowinc ingest --month {needed}",
        )


def as_of_range(start: str | pd.Timestamp, end: str | pd.Timestamp) -> list[pd.Timestamp]:
    """Monthly as-of dates from ``start`` to ``end``, both included."""
    first, last = as_of_date(start), as_of_date(end)
    if last < first:
        raise BadValue(
            f"--to {last:%Y-%m-%d} is before --from {first:%Y-%m-%d}", hint="give --from before --to"
        )
    return list(pd.date_range(first, last, freq="MS"))
