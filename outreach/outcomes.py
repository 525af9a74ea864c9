"""Visit outcomes (结果反馈): recorded by the responsible worker, kept as history, read back as labels.

A record is never changed. Recording a task that already has an outcome is refused unless it is
declared a correction; a correction is a new row that supersedes the current one, so the label
the model learns from is always the newest record and the earlier ones stay to be read. Every
refusal (unknown alert, a user who is not active or not responsible, an impossible date, an
undeclared second record) is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lowinc.errors import UserError
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.field import RESULTS, SOURCES, FieldConfig
from outreach.jurisdiction import acting_scope, audited_refusals, authorized_alert
from outreach.schema import Alert, OutcomeNeed, OutcomeRoute, Referral, VisitOutcome, VisitTask
from outreach.superseded import Newer

OUTCOME_COLUMNS = [
    "household_key",
    "visit_date",
    "hardship_confirmed",
    "alert_as_of",
    "listing_probability",
    "selection",
]
# the results that say something about the household (a label); 已在救助, 联系不上 and 拒绝 do not
LABELS = ("confirmed", "no_hardship")
# the workers' calendar: a visit made this morning in Zhejiang is "today" although UTC is behind
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RecordedVisit:
    """What a record wrote: the task, the new outcome (or the current one when unchanged), the
    record it supersedes, the task's status after it, the needs and referrals it opened."""

    task: int
    outcome: int
    supersedes: int | None
    status: str = "closed"
    needs: tuple[int, ...] = ()
    referrals: tuple[int, ...] = ()
    unchanged: bool = False  # an identical current record was there already (nothing written)

    def to_dict(self) -> dict[str, Any]:
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
    newer = Newer(VisitOutcome)
    query = select(VisitOutcome).outerjoin(*newer.join).where(VisitOutcome.task_id == task_id, newer.current)
    return session.execute(query).scalar_one_or_none()


def _task_for(session: Session, alert: Alert, user_id: int) -> VisitTask:
    task = session.execute(select(VisitTask).where(VisitTask.alert_id == alert.id)).scalar_one_or_none()
    if task is None:  # a listed household without a task of its own (cooldown, watch) can be visited too
        task = VisitTask(alert_id=alert.id, assignee_id=user_id, due_date=alert.due_date, status="new")
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


def _checked_codes(
    what: str, given: Sequence[str], known: Callable[[str], object | None], result: str, alert_id: int
) -> list[str]:
    """The codes in order without repeats; refuses unknown codes and codes without confirmed hardship."""
    codes = list(dict.fromkeys(c.strip() for c in given if c.strip()))
    if codes and result != "confirmed":
        raise UserError(
            f"alert {alert_id}: {what} are recorded only with confirmed hardship (result confirmed)",
            hint=f"leave out the {what}, or record the result confirmed",
        )
    unknown = [c for c in codes if known(c) is None]
    if unknown:
        shown = ", ".join(c[:30] for c in unknown[:5])
        raise UserError(
            f"alert {alert_id}: unknown {what}: {shown}", hint=f"use the codes of outreach.field.{what}"
        )
    return codes


def _checked_note(note: str | None, field: FieldConfig) -> str | None:
    text = (note or "").strip()
    if not text:
        return None
    if len(text) > field.note_max_chars:
        raise UserError(
            f"the note has {len(text)} characters, over the limit of {field.note_max_chars}",
            hint="shorten the note (outreach.field.note_max_chars)",
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise UserError("the note holds control characters", hint="type the note as plain text")
    return text


def task_status(result: str, open_items: int) -> str:
    """The task's status after an outcome: confirmed hardship with needs or referrals still open →
    visited; nobody reached → new (still to visit); anything else → closed."""
    if result == "unreachable":
        return "new"
    if result == "confirmed" and open_items:
        return "visited"
    return "closed"


def _same(
    session: Session,
    current: VisitOutcome,
    visited_on: dt.date,
    result: str,
    needs: list[str],
    routes: list[str] | None,
    note: str | None,
) -> bool:
    """Whether the current record says exactly this already (an import read twice)."""
    if (current.visited_on, current.result, current.note) != (visited_on, result, note):
        return False
    had_needs = (
        session.execute(select(OutcomeNeed.category).where(OutcomeNeed.outcome_id == current.id))
        .scalars()
        .all()
    )
    had_routes = (
        session.execute(select(OutcomeRoute.route).where(OutcomeRoute.outcome_id == current.id))
        .scalars()
        .all()
    )
    return sorted(had_needs) == sorted(needs) and (routes is None or sorted(had_routes) == sorted(routes))


def record_outcome(
    engine: Engine,
    *,
    alert_id: int,
    user_name: str,
    visited_on: dt.date,
    result: str,
    needs: Sequence[str] = (),
    routes: Sequence[str] = (),
    note: str | None = None,
    now: dt.datetime,
    correction: bool = False,
    source: str = "cli",
    field: FieldConfig | None = None,
    skip_identical: bool = False,
    replace_current: bool = False,
    household_code: str | None = None,
    compare_routes: bool = True,
) -> RecordedVisit:
    """Record what a home check found, as a new row, for an active worker or officer whose scope
    covers the alert's village (NotFound for an alert outside it, as for one that does not exist).

    The result is one of :data:`outreach.field.RESULTS`; needs and routes only with confirmed
    hardship and only configured codes; a route with a department becomes a referral (due
    visited_on + due_days, status sent). The task's status follows (:func:`task_status`). A
    second record must be a correction (it supersedes the current one; nothing is overwritten).
    With ``skip_identical`` a record identical to the current one is not written again
    (``RecordedVisit.unchanged``): what an import read twice does (``compare_routes`` False: the
    routes are not part of the comparison, a sheet has no route column); with ``replace_current`` a
    record supersedes the current one if there is one (a correction) and is the first otherwise.
    ``household_code``, when given (a row of a sheet), must be the alert's. Every refusal is
    audited as ``record_visit_denied``.
    """
    field = field or FieldConfig()
    now = utc_naive(now)
    detail: dict[str, Any] = {
        "visited_on": visited_on.isoformat(),
        "correction": correction,
        "result": str(result)[:20],
        "source": str(source)[:10],
    }
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
        if source not in SOURCES:
            raise UserError(f"unknown source {source[:20]!r} of a visit record (one of {', '.join(SOURCES)})")
        scope = acting_scope(session, user_name, "record_visit")
        alert = authorized_alert(session, scope, alert_id)
        if household_code and alert.household_code and household_code != alert.household_code:
            raise UserError(
                f"alert {alert_id}: the household code does not match the alert's",
                hint="check the row: 预警编号 and 户编码 must stay as exported",
            )
        if result not in RESULTS:
            raise UserError(
                f"alert {alert_id}: unknown result {str(result)[:20]!r}",
                hint="one of " + ", ".join(f"{c} ({zh})" for c, (zh, _en) in RESULTS.items()),
            )
        need_codes = _checked_codes("needs", needs, field.need, result, alert_id)
        route_codes = _checked_codes("routes", routes, field.route, result, alert_id)
        text = _checked_note(note, field)
        check_visit_date(visited_on, alert, now)
        task = _task_for(session, alert, scope.user_id)
        current = current_outcome(session, task.id)
        if (
            skip_identical
            and current is not None
            and _same(
                session,
                current,
                visited_on,
                result,
                need_codes,
                route_codes if compare_routes else None,
                text,
            )
        ):
            return RecordedVisit(task.id, current.id, current.supersedes_id, task.status, unchanged=True)
        if replace_current:
            correction = current is not None
            detail["correction"] = correction
        supersedes = _superseded(session, task, alert_id, correction)
        outcome = VisitOutcome(
            task_id=task.id,
            visited_on=visited_on,
            result=result,
            hardship_confirmed=result == "confirmed",
            note=text,
            source=source,
            recorded_by_id=scope.user_id,
            recorded_by=scope.name,
            recorded_at=now,
            supersedes_id=supersedes,
        )
        session.add(outcome)
        session.flush()
        need_rows = [OutcomeNeed(outcome_id=outcome.id, category=c, status="open") for c in need_codes]
        session.add_all(need_rows)
        session.add_all([OutcomeRoute(outcome_id=outcome.id, route=c) for c in route_codes])
        referrals = []
        for code in route_codes:
            kind = field.route(code)
            if kind is not None and kind.department:
                referrals.append(
                    Referral(
                        outcome_id=outcome.id,
                        alert_id=alert.id,
                        town_code=alert.town_code,
                        route=code,
                        department=kind.department,
                        due_date=visited_on + dt.timedelta(days=kind.due_days),
                        status="sent",
                        created_at=now,
                        updated_at=now,
                        updated_by=scope.name,
                    )
                )
        session.add_all(referrals)
        session.flush()
        task.status = task_status(result, len(need_rows) + len(referrals))
        record_audit(
            session,
            actor=scope.name,
            action="correct_visit" if correction else "record_visit",
            target=f"alert:{alert_id}",
            now=now,
            detail={
                **detail,
                "hardship_confirmed": result == "confirmed",
                "outcome": outcome.id,
                "needs": need_codes,
                "routes": route_codes,
                "referrals": [r.id for r in referrals],
                "task_status": task.status,
            },
        )
        return RecordedVisit(
            task.id,
            outcome.id,
            supersedes,
            task.status,
            needs=tuple(n.id for n in need_rows),
            referrals=tuple(r.id for r in referrals),
        )


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
    """The yes/no form of :func:`record_outcome` (confirmed or no_hardship, no needs or routes)."""
    return record_outcome(
        engine,
        alert_id=alert_id,
        user_name=user_name,
        visited_on=visited_on,
        result="confirmed" if hardship_confirmed else "no_hardship",
        note=note,
        now=now,
        correction=correction,
    )


def visit_outcomes(engine: Engine) -> pd.DataFrame:
    """The current record of every visited task as a label: household_key, visit_date
    (datetime64), hardship_confirmed, and the alert it answers: its list month ``alert_as_of``
    (datetime64), ``listing_probability`` (1.0 for a household listed by rank, the known draw
    probability for an explored one) and ``selection`` ('rank' | 'explore'). The alert's month and
    probability let the snapshot at that month weight the visit label by 1 / probability, so an
    explored household stands for those it was drawn from. Superseded records are history, not
    labels."""
    newer = Newer(VisitOutcome)
    query = (
        select(
            Alert.household_key,
            VisitOutcome.visited_on,
            VisitOutcome.hardship_confirmed,
            Alert.as_of,
            Alert.listing_probability,
            Alert.selection,
        )
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .outerjoin(*newer.join)
        .where(newer.current, VisitOutcome.result.in_(LABELS))
        .order_by(VisitOutcome.visited_on, Alert.household_key)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=OUTCOME_COLUMNS)
    frame["visit_date"] = pd.to_datetime(frame["visit_date"])
    frame["hardship_confirmed"] = frame["hardship_confirmed"].astype(bool)
    frame["alert_as_of"] = pd.to_datetime(frame["alert_as_of"])
    # an alert queued before migration 0005 has no probability: it was listed by rank
    frame["listing_probability"] = pd.to_numeric(frame["listing_probability"]).fillna(1.0).astype(float)
    frame["selection"] = frame["selection"].fillna("rank").astype(str)
    return frame


def listed_outcomes(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """Every household of the list of ``as_of`` given a visit task: how it was listed
    (``selection``, ``listing_probability``) and the result of its current record (None while
    not visited) — the input of the inverse-propensity evaluation (monitoring.selective)."""
    newer = Newer(VisitOutcome)
    current = (
        select(VisitOutcome.task_id, VisitOutcome.result)
        .outerjoin(*newer.join)
        .where(newer.current)
        .subquery()
    )
    query = (
        select(Alert.selection, Alert.listing_probability, current.c.result)
        .join(VisitTask, VisitTask.alert_id == Alert.id)
        .outerjoin(current, current.c.task_id == VisitTask.id)
        .where(Alert.as_of == as_of)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=["selection", "listing_probability", "result"])


def outcome_counts(
    engine: Engine, visited_from: dt.date | None = None, visited_before: dt.date | None = None
) -> dict[str, int]:
    """How many tasks' current records have each result (every result present, 0 when none),
    of the visits made on or after ``visited_from`` and before ``visited_before`` when given."""
    newer = Newer(VisitOutcome)
    query = (
        select(VisitOutcome.result, func.count(VisitOutcome.id))
        .outerjoin(*newer.join)
        .where(newer.current)
        .group_by(VisitOutcome.result)
    )
    if visited_from is not None:
        query = query.where(VisitOutcome.visited_on >= visited_from)
    if visited_before is not None:
        query = query.where(VisitOutcome.visited_on < visited_before)
    with engine.connect() as connection:
        found = {str(r): int(n) for r, n in connection.execute(query).all()}
    return {code: found.get(code, 0) for code in RESULTS}


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
