"""The records of re-verification visits (定期核查) to the 核查 (reverify) and 渐退 (phase_out)
lists: the results of each kind and the read side (a row's history, the list page's current
results). Recording is :mod:`outreach.checks`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lowinc.errors import BadValue
from outreach.jurisdiction import Scope
from outreach.schema import RecipientCheck
from outreach.superseded import Newer
from scoring.recipients import PHASE_OUT, REVERIFY

# kind -> result code -> (zh, en); the form's order. unreachable and refused say nothing.
CHECK_RESULTS: dict[str, dict[str, tuple[str, str]]] = {
    REVERIFY: {
        "still_qualifies": ("仍符合条件", "still qualifies"),
        "review": ("情况有变化，提请复核认定", "circumstances changed: refer to the township's review"),
        "unreachable": ("联系不上", "unreachable"),
        "refused": ("拒绝", "refused"),
    },
    PHASE_OUT: {
        "stable": ("收入稳定，可按期退出", "stable: may leave when the phase-out ends"),
        "at_risk": ("有返贫风险，需继续帮扶", "at risk of falling back: keep supporting"),
        "unreachable": ("联系不上", "unreachable"),
        "refused": ("拒绝", "refused"),
    },
}
CHECK_KINDS = tuple(CHECK_RESULTS)


def check_result(kind: str, given: str) -> str:
    """The result code of the kind's list from its code or its Chinese label; BadValue else."""
    results = CHECK_RESULTS[check_kind(kind)]
    text = given.strip()
    code = text if text in results else next((c for c, (zh, _) in results.items() if zh == text), None)
    if code is None:
        raise BadValue(f"unknown result {given[:30]!r} for the {kind} list: use {', '.join(results)}")
    return code


@dataclass(frozen=True)
class CheckRecord:
    """One record of a re-verification visit; ``current`` False once a correction replaced it."""

    id: int
    checked_on: dt.date
    result: str
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime
    supersedes_id: int | None
    current: bool


def check_kind(kind: str) -> str:
    """The kind if it is one of the re-verification lists; BadValue else."""
    if kind not in CHECK_RESULTS:
        raise BadValue(f"unknown re-verification list {kind[:20]!r}: use {' or '.join(CHECK_KINDS)}")
    return kind


def check_history(session: Session, household_key: str, as_of: dt.date, kind: str) -> tuple[CheckRecord, ...]:
    """Every record of one list row, oldest first, each marked current or corrected by the same
    join as the list's current results (the caller has authorized the row)."""
    newer = Newer(RecipientCheck)
    query = (
        select(RecipientCheck, newer.current)
        .outerjoin(*newer.join)
        .where(
            RecipientCheck.household_key == household_key,
            RecipientCheck.as_of == as_of,
            RecipientCheck.kind == kind,
        )
        .order_by(RecipientCheck.id)
    )
    return tuple(
        CheckRecord(
            id=r.id,
            checked_on=r.checked_on,
            result=r.result,
            note=r.note,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
            supersedes_id=r.supersedes_id,
            current=bool(current),
        )
        for r, current in session.execute(query).all()
    )


def current_checks(
    session: Session, scope: Scope, keys: list[str], as_of: dt.date, kind: str
) -> dict[str, tuple[dt.date, str, str | None]]:
    """The list's households -> (date, result, note) of their current record, inside the scope."""
    if not keys:
        return {}
    newer = Newer(RecipientCheck)
    query = (
        select(
            RecipientCheck.household_key,
            RecipientCheck.checked_on,
            RecipientCheck.result,
            RecipientCheck.note,
        )
        .outerjoin(*newer.join)
        .where(
            newer.current,
            RecipientCheck.household_key.in_(keys),
            RecipientCheck.as_of == as_of,
            RecipientCheck.kind == kind,
            scope.area_filter(RecipientCheck),
        )
    )
    return {str(k): (day, str(result), note) for k, day, result, note in session.execute(query).all()}


def result_counts(session: Session, scope: Scope, as_of: dt.date) -> dict[tuple[str, str], int]:
    """(kind, result) -> how many list rows of the month inside the scope have that current
    result (a SQL aggregate; rows without a record are not counted)."""
    newer = Newer(RecipientCheck)
    query = (
        select(RecipientCheck.kind, RecipientCheck.result, func.count(RecipientCheck.id))
        .outerjoin(*newer.join)
        .where(newer.current, RecipientCheck.as_of == as_of, scope.area_filter(RecipientCheck))
        .group_by(RecipientCheck.kind, RecipientCheck.result)
    )
    return {(str(k), str(r)): int(n) for k, r, n in session.execute(query).all()}
