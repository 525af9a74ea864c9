"""The glue of simulated field visits: read a month's assigned tasks and the truth, record the
visits through the web form's own code path.

Every visit goes through :func:`outreach.outcomes.record_outcome` with ``source="simulated"``,
as the task's assigned worker, exactly as ``outreach/web/alerts.py`` records the form: the
same scope checks, task status, needs, referrals and audit. So the closed-loop benchmark
exercises what production runs, and its labels flow back into training the way real ones do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from features.truth import household_keys_of
from lowinc.home import HomeLayout
from lowinc.pseudonym import load_key, pseudonymise
from outreach.field import RESULTS, FieldConfig
from outreach.outcomes import record_outcome
from outreach.schema import Alert, User, VisitOutcome, VisitTask
from simulator.field import TRUTH_COLUMNS, FieldVisitConfig, simulate_visits, visit_moment

MONTH_TASK_COLUMNS = [
    "alert_id",
    "household_key",
    "as_of",
    "due_date",
    "assignee",
    "selection",
    "listing_probability",
    "county_code",
    "town_code",
]


@dataclass(frozen=True)
class VisitSummary:
    """What a month's simulated visits recorded: the tasks visited and the count per result."""

    as_of: str
    tasks: int
    results: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_tasks(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """The visit tasks of the list of ``as_of`` that are assigned to a worker (within their
    capacity: the queue assigned them) and still to visit, with no recorded outcome yet."""
    current = aliased(VisitOutcome)
    query = (
        select(
            Alert.id,
            Alert.household_key,
            Alert.as_of,
            VisitTask.due_date,
            User.name,
            Alert.selection,
            Alert.listing_probability,
            Alert.county_code,
            Alert.town_code,
        )
        .join(VisitTask, VisitTask.alert_id == Alert.id)
        .join(User, User.id == VisitTask.assignee_id)
        .outerjoin(current, current.task_id == VisitTask.id)
        .where(Alert.as_of == as_of, VisitTask.status == "new", current.id.is_(None))
        .order_by(Alert.id)
    )
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=MONTH_TASK_COLUMNS)


def read_truth(home: Path, months: Iterable[str]) -> pd.DataFrame:
    """The simulator's household-month truth of the given months (YYYY-MM; those written), its
    households keyed as ingest keys them (the home's pseudonym key, the same hash)."""
    layout = HomeLayout(home)
    folder = layout.truth / "household_month"
    frames = [
        pd.read_parquet(folder / f"{m}.parquet")
        for m in sorted(set(months))
        if (folder / f"{m}.parquet").exists()
    ]
    if not frames:
        return pd.DataFrame(columns=list(TRUTH_COLUMNS))
    truth = pd.concat(frames, ignore_index=True)
    key = load_key(layout.secure)
    truth["household_key"] = household_keys_of(truth["hh_no"], lambda c: pseudonymise(c, key, "household"))
    return truth.loc[:, list(TRUTH_COLUMNS)]


def visit_months(tasks: pd.DataFrame) -> list[str]:
    """The calendar months a month's visits can fall in (as-of to the latest due date)."""
    if tasks.empty:
        return []
    first = pd.Timestamp(tasks["as_of"].min())
    last = pd.Timestamp(max(tasks["due_date"].max(), tasks["as_of"].max()))
    return [f"{m:%Y-%m}" for m in pd.period_range(first, last, freq="M")]


def record_visits(
    engine: Engine, tasks: pd.DataFrame, visits: pd.DataFrame, field: FieldConfig | None = None
) -> pd.DataFrame:
    """Record each visit as its task's assigned worker through ``record_outcome`` (source
    ``simulated``); returns the visits with the task's columns and the outcome id. One call per
    visit is the point: each is the form's own transaction, checks and audit."""
    merged = visits.merge(
        tasks.drop(columns=["household_key"]), on="alert_id", how="inner", validate="one_to_one"
    )
    outcome_ids = [
        record_outcome(
            engine,
            alert_id=int(alert_id),
            user_name=str(user),
            visited_on=visited_on,
            result=str(result),
            needs=tuple(needs),
            now=visit_moment(visited_on),
            source="simulated",
            field=field,
        ).outcome
        for alert_id, user, visited_on, result, needs in zip(
            merged["alert_id"],
            merged["assignee"],
            merged["visited_on"],
            merged["result"],
            merged["needs"],
            strict=True,
        )
    ]
    return merged.assign(outcome_id=outcome_ids)


def visit_month(
    engine: Engine,
    home: Path,
    as_of: dt.date,
    config: FieldVisitConfig | None = None,
    field: FieldConfig | None = None,
) -> tuple[VisitSummary, pd.DataFrame]:
    """Simulate and record the visits of one list month: its assigned tasks, the truth of the
    months they fall in, one visit each. Returns the summary and the recorded visits."""
    config = config or FieldVisitConfig()
    tasks = month_tasks(engine, as_of)
    truth = read_truth(home, visit_months(tasks))
    visits = simulate_visits(tasks.loc[:, ["alert_id", "household_key", "as_of", "due_date"]], truth, config)
    recorded = record_visits(engine, tasks, visits, field)
    counts = recorded["result"].value_counts()
    summary = VisitSummary(
        as_of=as_of.isoformat(),
        tasks=len(tasks),
        results={code: int(counts.get(code, 0)) for code in RESULTS},
    )
    return summary, recorded
