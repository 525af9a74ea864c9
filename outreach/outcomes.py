"""Visit outcomes (结果反馈): recorded by the responsible worker, read back as labels."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select

from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.jurisdiction import active_user, covers
from outreach.schema import Alert, VisitTask

OUTCOME_COLUMNS = ["household_key", "visit_date", "hardship_confirmed"]


def record_visit(
    engine: Engine,
    *,
    alert_id: int,
    user_name: str,
    visited_on: dt.date,
    hardship_confirmed: bool,
    now: dt.datetime,
    note: str | None = None,
) -> int:
    """Record what a home check found; only a user whose area covers the village may. Returns the task id."""
    now = utc_naive(now)
    with transaction(engine) as session:
        user = active_user(session, user_name)
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise LookupError(f"no alert {alert_id}")
        if user is None or not covers(user.level, user.code, alert.village_code):
            raise PermissionError(f"{user_name} is not responsible for village {alert.village_code}")
        task = session.execute(select(VisitTask).where(VisitTask.alert_id == alert_id)).scalar_one_or_none()
        if task is None:  # a listed household without a task of its own (cooldown, watch) can be visited too
            task = VisitTask(alert_id=alert_id, assignee_id=user.id, due_date=alert.due_date, status="open")
            session.add(task)
        task.status = "done"
        task.hardship_confirmed = hardship_confirmed
        task.visited_on = visited_on
        task.note = note
        task.recorded_by = user_name
        task.recorded_at = now
        session.flush()
        record_audit(
            session,
            actor=user_name,
            action="record_visit",
            target=f"alert:{alert_id}",
            now=now,
            detail={"hardship_confirmed": hardship_confirmed, "visited_on": visited_on.isoformat()},
        )
        return task.id


def visit_outcomes(engine: Engine) -> pd.DataFrame:
    """Every recorded visit as a label: household_key, visit_date (datetime64), hardship_confirmed."""
    query = (
        select(Alert.household_key, VisitTask.visited_on, VisitTask.hardship_confirmed)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .where(VisitTask.status == "done")
        .order_by(VisitTask.visited_on, Alert.household_key)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=OUTCOME_COLUMNS)
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    frame["hardship_confirmed"] = frame["hardship_confirmed"].astype(bool)
    return frame
