"""Following up what a visit opened (一门受理, 协同办理): referrals to other departments and needs.

A township or county officer whose scope covers the household moves a referral along
(sent → accepted → done; sent or accepted → declined) and marks a need met. When no need and no
referral of the task's current outcome is open any more, the task is closed. Every change and
every refusal is audited; a referral or need outside the officer's area answers NotFound, as one
that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lowinc.errors import NotFound, UserError
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.field import FieldConfig
from outreach.jurisdiction import Scope, acting_scope, audited_refusals
from outreach.outcomes import current_outcome
from outreach.schema import Alert, OutcomeNeed, Referral, VisitOutcome, VisitTask

REFERRAL_STATUSES = ("sent", "accepted", "done", "declined")
OPEN_REFERRAL = ("sent", "accepted")
TRANSITIONS: dict[str, frozenset[str]] = {
    "sent": frozenset({"accepted", "declined"}),
    "accepted": frozenset({"done", "declined"}),
    "done": frozenset(),
    "declined": frozenset(),
}
STATUS_ZH = {"sent": "已转办", "accepted": "已受理", "done": "已办结", "declined": "未受理"}


@dataclass(frozen=True)
class FollowUp:
    """The state after a change: the referral's or need's id and status, and the task's status."""

    id: int
    status: str
    alert_id: int
    task_status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def open_items(session: Session, outcome_id: int) -> int:
    """How many needs and referrals of one outcome are still open."""
    needs = session.execute(
        select(func.count())
        .select_from(OutcomeNeed)
        .where(OutcomeNeed.outcome_id == outcome_id, OutcomeNeed.status == "open")
    ).scalar_one()
    referrals = session.execute(
        select(func.count())
        .select_from(Referral)
        .where(Referral.outcome_id == outcome_id, Referral.status.in_(OPEN_REFERRAL))
    ).scalar_one()
    return int(needs) + int(referrals)


def settle_task(session: Session, outcome_id: int) -> str:
    """Close the outcome's task when it is the current record, confirmed, with nothing left open;
    returns the task's status."""
    outcome = session.get(VisitOutcome, outcome_id)
    assert outcome is not None
    task = session.get(VisitTask, outcome.task_id)
    assert task is not None
    current = current_outcome(session, task.id)
    is_current = current is not None and current.id == outcome_id
    if is_current and task.status == "visited" and open_items(session, outcome_id) == 0:
        task.status = "closed"
    return task.status


def _alert_in_scope(session: Session, scope: Scope, alert_id: int, what: str) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not scope.covers(alert.village_code):
        raise NotFound(f"no {what} in the area of {scope.name}")
    return alert


def _checked_note(note: str | None, field: FieldConfig) -> str | None:
    text = (note or "").strip()
    if len(text) > field.note_max_chars:
        raise UserError(
            f"the note has {len(text)} characters, over the limit of {field.note_max_chars}",
            hint="shorten the note",
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise UserError("the note holds control characters", hint="type the note as plain text")
    return text or None


def update_referral(
    engine: Engine,
    *,
    referral_id: int,
    user_name: str,
    status: str,
    note: str | None = None,
    now: dt.datetime,
    field: FieldConfig | None = None,
) -> FollowUp:
    """Move a referral to ``status`` (an allowed transition only), for a town or county officer
    whose scope covers the household; audited as update_referral (refusals as
    update_referral_denied)."""
    field = field or FieldConfig()
    now = utc_naive(now)
    target = f"referral:{referral_id}"
    detail = {"status": str(status)[:20]}
    with (
        audited_refusals(
            engine, actor=user_name, action="update_referral_denied", target=target, now=now, detail=detail
        ),
        transaction(engine) as session,
    ):
        scope = acting_scope(session, user_name, "follow_referral")
        referral = session.get(Referral, referral_id)
        if referral is None:
            raise NotFound(f"no referral {referral_id} in the area of {scope.name}")
        _alert_in_scope(session, scope, referral.alert_id, f"referral {referral_id}")
        if status not in REFERRAL_STATUSES:
            raise UserError(
                f"unknown referral status {str(status)[:20]!r}", hint="one of " + ", ".join(REFERRAL_STATUSES)
            )
        if status not in TRANSITIONS[referral.status]:
            allowed = ", ".join(sorted(TRANSITIONS[referral.status])) or "none (it is finished)"
            raise UserError(
                f"referral {referral_id} is {referral.status}: it cannot become {status}",
                hint=f"allowed next: {allowed}",
            )
        text = _checked_note(note, field)
        before = referral.status
        referral.status = status
        if text is not None:
            referral.note = text
        referral.updated_at = now
        referral.updated_by = scope.name
        session.flush()
        task_status = settle_task(session, referral.outcome_id)
        record_audit(
            session,
            actor=scope.name,
            action="update_referral",
            target=target,
            now=now,
            detail={"from": before, "to": status, "alert": referral.alert_id, "task_status": task_status},
        )
        return FollowUp(referral.id, status, referral.alert_id, task_status)


def mark_need_met(engine: Engine, *, need_id: int, user_name: str, now: dt.datetime) -> FollowUp:
    """Mark an open need met, for a town or county officer whose scope covers the household;
    audited as need_met (refusals as need_met_denied)."""
    now = utc_naive(now)
    target = f"need:{need_id}"
    with (
        audited_refusals(engine, actor=user_name, action="need_met_denied", target=target, now=now),
        transaction(engine) as session,
    ):
        scope = acting_scope(session, user_name, "follow_referral")
        need = session.get(OutcomeNeed, need_id)
        outcome = session.get(VisitOutcome, need.outcome_id) if need is not None else None
        task = session.get(VisitTask, outcome.task_id) if outcome is not None else None
        if need is None or task is None:
            raise NotFound(f"no need {need_id} in the area of {scope.name}")
        _alert_in_scope(session, scope, task.alert_id, f"need {need_id}")
        if need.status != "open":
            raise UserError(f"need {need_id} is already met", hint="nothing to do")
        need.status = "met"
        need.closed_at = now
        need.closed_by = scope.name
        session.flush()
        task_status = settle_task(session, need.outcome_id)
        record_audit(
            session,
            actor=scope.name,
            action="need_met",
            target=target,
            now=now,
            detail={"category": need.category, "alert": task.alert_id, "task_status": task_status},
        )
        return FollowUp(need.id, "met", task.alert_id, task_status)
