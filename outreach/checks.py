"""Re-verification visits (定期核查) of the 核查 (reverify) and 渐退 (phase_out) lists.

The score stage lists current recipients whose data suggest they may no longer qualify, and those
in the phase-out period at risk of falling back (:mod:`scoring.recipients`). A worker visits and
records what they found here. A record never decides anything: ``review`` hands the case to the
township's own eligibility review (its procedure, its decision), and no household is removed from
assistance by a score or by a record.

A record is keyed by its list row (household, month, kind) and is never changed: a second record
must be declared a correction, a new row that supersedes the current one. Only an active worker
or officer whose area holds the row may record; a household not on the list and one outside the
area get the same NotFound. Every record and every refusal is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from lowinc.errors import UserError
from lowinc.home import HomeLayout
from outreach.audit import record_audit
from outreach.check_records import CHECK_RESULTS, check_history, check_kind
from outreach.db import transaction, utc_naive
from outreach.field import SOURCES, FieldConfig
from outreach.jurisdiction import acting_scope, audited_refusals
from outreach.other_lists import listed_household
from outreach.outcomes import _checked_note, local_today
from outreach.schema import RecipientCheck


@dataclass(frozen=True)
class CheckRecorded:
    """What a record did: its id, the record it superseded, and whether nothing was written
    because it equals the current record (``skip_identical``; the id is then the current one's)."""

    id: int
    supersedes: int | None
    unchanged: bool = False


def record_check(
    engine: Engine,
    layout: HomeLayout,
    *,
    kind: str,
    as_of: dt.date,
    household_code: str,
    user_name: str,
    checked_on: dt.date,
    result: str,
    now: dt.datetime,
    note: str | None = None,
    correction: bool = False,
    source: str = "web",
    field: FieldConfig | None = None,
    skip_identical: bool = False,
    replace_current: bool = False,
) -> CheckRecorded:
    """Record a re-verification visit to the household of that code on the user's list of the
    kind and month; returns the new record's id. Refuses (UserError, audited as
    ``record_check_denied``): a user who may not record visits, a household not on the list in
    the user's area (NotFound), a result not of the kind, a date before the list's month or after
    today, an over-long note, and a second record that is not a correction (or a correction of
    nothing). For a re-read list (``lowinc visits check-import``): ``skip_identical`` writes
    nothing for a record equal to the current one (date, result, note), and ``replace_current``
    makes a record that differs from the current one its correction."""
    field = field or FieldConfig()
    now = utc_naive(now)
    detail: dict[str, object] = {"kind": str(kind)[:20], "as_of": as_of.isoformat()}
    detail |= {"result": str(result)[:20], "correction": correction, "source": str(source)[:10]}
    target = f"check:{str(kind)[:12]}:{as_of.isoformat()}:{household_code[:12]}"
    with (
        audited_refusals(
            engine, actor=user_name, action="record_check_denied", target=target, now=now, detail=detail
        ),
        transaction(engine) as session,
    ):
        if source not in SOURCES:
            raise UserError(f"unknown source {source[:20]!r} of a check record (one of {', '.join(SOURCES)})")
        scope = acting_scope(session, user_name, "record_visit")
        kind = check_kind(kind)
        row = listed_household(
            session, layout, scope, kind=kind, as_of=as_of, code=household_code, named=False
        )
        key = str(row.household_key)
        if result not in CHECK_RESULTS[kind]:
            raise UserError(
                f"unknown result {str(result)[:20]!r} of a {kind} visit",
                hint="one of " + ", ".join(f"{c} ({zh})" for c, (zh, _en) in CHECK_RESULTS[kind].items()),
            )
        today = local_today(now)
        if not as_of <= checked_on <= today:
            raise UserError(
                f"visit date {checked_on.isoformat()} is outside {as_of.isoformat()} (the list's month) "
                f"to {today.isoformat()} (today)",
                hint="give the day of the visit",
            )
        text = _checked_note(note, field)
        history = check_history(session, key, as_of, kind)
        current = next((r for r in history if r.current), None)
        same = current is not None and (current.checked_on, current.result, current.note) == (
            checked_on,
            result,
            text,
        )
        if current is not None and same and skip_identical:
            return CheckRecorded(current.id, current.supersedes_id, unchanged=True)
        correction = correction or (replace_current and current is not None)
        if current is not None and not correction:
            raise UserError(
                f"household {household_code} already has a recorded {kind} visit of {as_of.isoformat()}",
                hint="declare the new record a correction to replace it",
            )
        if current is None and correction:
            raise UserError(f"household {household_code} has no recorded visit to correct")
        record = RecipientCheck(
            household_key=key,
            as_of=as_of,
            kind=kind,
            county_code=row.county_code or row.village_code[:6],
            town_code=row.town_code,
            village_code=row.village_code,
            checked_on=checked_on,
            result=result,
            note=text,
            source=source,
            recorded_by_id=scope.user_id,
            recorded_by=scope.name,
            recorded_at=now,
            supersedes_id=current.id if current is not None else None,
        )
        session.add(record)
        session.flush()
        record_audit(
            session,
            actor=scope.name,
            action="correct_check" if correction else "record_check",
            target=f"household:{key}",
            now=now,
            detail={**detail, "record": record.id, "supersedes": record.supersedes_id},
        )
        return CheckRecorded(record.id, record.supersedes_id)
