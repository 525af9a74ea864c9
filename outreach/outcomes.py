"""Visit outcomes (结果反馈): recorded by the responsible worker, kept as history, read back as labels.

A record is never changed. Recording a task that already has an outcome is refused unless it is
declared a correction; a correction is a new row that supersedes the current one, so the label
the model learns from is always the newest record and the earlier ones stay to be read. Every
refusal (unknown alert, a user who is not active or not responsible, an impossible date, an
undeclared second record) is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from lowinc.errors import NotFound, UserError
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.jurisdiction import acting_user, audited_refusals, covers
from outreach.schema import Alert, User, VisitOutcome, VisitTask

OUTCOME_COLUMNS = ["household_key", "visit_date", "hardship_confirmed"]
# the results that say something about the household (a label); 已在救助, 联系不上 and 拒绝 do not
LABELS = ("confirmed", "no_hardship")
# the workers' calendar: a visit made this morning in Zhejiang is "today" although UTC is behind
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RecordedVisit:
    task: int
    outcome: int
    supersedes: int | None

    def to_dict(self) -> dict[str, int | None]:
        return asdict(self)


def local_today(now: dt.datetime) -> dt.date:
    """Today's date in Zhejiang for a moment (naive moments are UTC, as stored)."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL_ZONE).date()


def check_visit_date(visited_on: dt.date, alert: Alert, now: dt.datetime) -> None:
    """A visit happens on or after the alert's month and not after today."""
    today = local_today(now)
    if not alert.as_of <= visited_on <= today:
        raise UserError(
            f"visit date {visited_on.isoformat()} is outside {alert.as_of.isoformat()} (the alert's "
            f"month) to {today.isoformat()} (today)",
            hint="lowinc visits record --visited-on YYYY-MM-DD with the day of the visit",
        )


def current_outcome(session: Session, task_id: int) -> VisitOutcome | None:
    """The task's record nobody has superseded (None before the first)."""
    newer = aliased(VisitOutcome)
    query = (
        select(VisitOutcome)
        .outerjoin(newer, newer.supersedes_id == VisitOutcome.id)
        .where(VisitOutcome.task_id == task_id, newer.id.is_(None))
    )
    return session.execute(query).scalar_one_or_none()


def _task_for(session: Session, alert: Alert, user: User) -> VisitTask:
    task = session.execute(select(VisitTask).where(VisitTask.alert_id == alert.id)).scalar_one_or_none()
    if task is None:  # a listed household without a task of its own (cooldown, watch) can be visited too
        task = VisitTask(alert_id=alert.id, assignee_id=user.id, due_date=alert.due_date, status="new")
        session.add(task)
        session.flush()
    return task


def _superseded(session: Session, task: VisitTask, alert_id: int, correction: bool) -> int | None:
    """The id the new record supersedes; refuses a second record that is not a correction and a
    correction of nothing."""
    current = current_outcome(session, task.id)
    if current is not None and not correction:
        raise UserError(
            f"alert {alert_id} already has a recorded visit (record {current.id})",
            hint=f"lowinc visits record --alert {alert_id} --correction ... to correct it",
        )
    if current is None and correction:
        raise UserError(
            f"alert {alert_id} has no recorded visit to correct", hint="record it without --correction"
        )
    return current.id if current is not None else None


def record_visit(
    engine: Engine,
    *,
    alert_id: int,
    user_name: str,
    visited_on: dt.date,
    hardship_confirmed: bool,
    now: dt.datetime,
    note: str | None = None,
    correction: bool = False,
) -> RecordedVisit:
    """Record what a home check found, as a new row; only an active worker or officer whose area
    covers the village may, for a date from the alert's month to today."""
    now = utc_naive(now)
    detail = {"visited_on": visited_on.isoformat(), "correction": correction}
    with (
        audited_refusals(
            engine,
            actor=user_name,
            action="record_visit_denied",
            target=f"alert:{alert_id}",
            now=now,
            detail=detail,
        ),
        transaction(engine) as session,
    ):
        user = acting_user(session, user_name, "record_visit")
        alert = session.get(Alert, alert_id)
        if alert is None or not covers(user.level, user.code, alert.village_code):
            # the same answer for an alert that does not exist and one outside the area
            raise NotFound(f"no alert {alert_id} in the area of {user_name}")
        check_visit_date(visited_on, alert, now)
        task = _task_for(session, alert, user)
        supersedes = _superseded(session, task, alert_id, correction)
        outcome = VisitOutcome(
            task_id=task.id,
            visited_on=visited_on,
            result="confirmed" if hardship_confirmed else "no_hardship",
            hardship_confirmed=hardship_confirmed,
            note=note,
            recorded_by_id=user.id,
            recorded_by=user.name,
            recorded_at=now,
            supersedes_id=supersedes,
        )
        session.add(outcome)
        task.status = "closed"
        session.flush()
        record_audit(
            session,
            actor=user.name,
            action="correct_visit" if correction else "record_visit",
            target=f"alert:{alert_id}",
            now=now,
            detail={**detail, "hardship_confirmed": hardship_confirmed, "outcome": outcome.id},
        )
        return RecordedVisit(task.id, outcome.id, supersedes)


def visit_outcomes(engine: Engine) -> pd.DataFrame:
    """The current record of every visited task as a label: household_key, visit_date
    (datetime64), hardship_confirmed; superseded records are history, not labels."""
    newer = aliased(VisitOutcome)
    query = (
        select(Alert.household_key, VisitOutcome.visited_on, VisitOutcome.hardship_confirmed)
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .outerjoin(newer, newer.supersedes_id == VisitOutcome.id)
        .where(newer.id.is_(None), VisitOutcome.result.in_(LABELS))
        .order_by(VisitOutcome.visited_on, Alert.household_key)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=OUTCOME_COLUMNS)
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    frame["hardship_confirmed"] = frame["hardship_confirmed"].astype(bool)
    return frame


def visit_history(engine: Engine, alert_id: int) -> pd.DataFrame:
    """Every record of one alert's visit, oldest first (id, visited_on, hardship_confirmed,
    recorded_by, recorded_at, supersedes_id)."""
    query = (
        select(
            VisitOutcome.id,
            VisitOutcome.visited_on,
            VisitOutcome.hardship_confirmed,
            VisitOutcome.recorded_by,
            VisitOutcome.recorded_at,
            VisitOutcome.supersedes_id,
        )
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .where(VisitTask.alert_id == alert_id)
        .order_by(VisitOutcome.id)
    )
    with engine.connect() as connection:
        result = connection.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))
