"""A user's ranked visit list (/visits) within their area, for one month.

Two statements whatever the size: the month (the latest one in scope unless given) and the page
of rows with the total beside each (a window count), alerts joined with their visit task and
contact. A village worker gets the tasks assigned to them in their villages (the village's list
is shared among its workers); an officer every alert of their area. The rows carry personal data
(the contact), so every call is audited once, with the count, never the names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from lowinc.divisions import validate_code
from lowinc.errors import BadValue, NotFound, UserError
from outreach.audit import record_audit
from outreach.jurisdiction import Scope
from outreach.schema import Alert, AlertContact, VisitTask
from outreach.workdays import working_days_left
from scoring.reasons import SEPARATOR
from scoring.tiers import TIERS

STATUSES = ("new", "visited", "closed")
TIER_ORDER = {tier: i for i, tier in enumerate(TIERS)}
TOP_REASONS = 3
TRIGGER_SEPARATOR = "；"  # scoring.tiers.trigger_text joins the labels with it
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class WorkItem:
    """One household on the list: the alert, its task and who to ask for (personal data)."""

    alert_id: int
    household_code: str | None
    village_code: str
    village_name: str
    town_code: str
    tier: str
    risk_rank: int  # the rank in the village's list
    due_date: dt.date | None
    days_left: int | None  # working days until due (negative: overdue by that many)
    overdue: bool
    reasons_zh: tuple[str, ...]  # the first TOP_REASONS
    reasons_en: tuple[str, ...]
    action: str
    status: str | None  # new | visited | closed; None: listed without a task (cooldown, watch)
    hard_triggers: tuple[str, ...]  # the labels of scoring.tiers.TRIGGER_ZH
    head_name: str | None
    head_id_masked: str | None
    address: str | None
    group_name: str | None
    stand_in: bool


@dataclass(frozen=True)
class Trip:
    """Households of one village due on one day: one trip covers them (visit planning)."""

    village_code: str
    village_name: str
    due_date: dt.date | None
    items: tuple[WorkItem, ...]


@dataclass(frozen=True)
class Worklist:
    """One page of a user's list, the total that matched, and the filters that made it."""

    as_of: dt.date | None  # None: nothing in the user's area yet
    items: tuple[WorkItem, ...]
    total: int
    limit: int
    offset: int
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def trips(self) -> tuple[Trip, ...]:
        """The page's rows grouped by village and due date, the most urgent trip first (earliest
        due date, then best tier); ranked order within each trip."""

        def key(item: WorkItem) -> tuple[str, dt.date]:
            return item.village_code, item.due_date or dt.date.max

        groups = [(k, tuple(g)) for k, g in groupby(sorted(self.items, key=key), key=key)]
        groups.sort(key=lambda kg: (kg[0][1], min(TIER_ORDER.get(i.tier, 9) for i in kg[1]), kg[0][0]))
        return tuple(
            Trip(village, items[0].village_name, None if due == dt.date.max else due, items)
            for (village, due), items in groups
        )

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total


def validate_filters(
    scope: Scope, *, tier: str | None, village: str | None, status: str | None, limit: int, offset: int
) -> dict[str, str]:
    """The filters as given, once each is known good: a tier or status outside the known ones, a
    limit or offset out of range is a BadValue; a village that is not a 12-digit division inside
    the scope is NotFound (the same answer whether it exists or not)."""
    if tier is not None and tier not in TIERS:
        raise BadValue(f"unknown tier: use one of {', '.join(TIERS)}")
    if status is not None and status not in STATUSES:
        raise BadValue(f"unknown status: use one of {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadValue(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadValue(f"offset must be between 0 and {MAX_OFFSET}")
    filters: dict[str, str] = {}
    if village is not None:
        try:
            validate_code(village, "village")
        except UserError as error:
            raise NotFound("no such village in your area") from error
        if not scope.covers(village):
            raise NotFound("no such village in your area")
        filters["village"] = village
    if tier is not None:
        filters["tier"] = tier
    if status is not None:
        filters["status"] = status
    return filters


def _assigned_only(scope: Scope) -> bool:
    return scope.role == "village_worker"


def latest_month(session: Session, scope: Scope) -> dt.date | None:
    """The newest month with alerts inside the scope (an index lookup per area)."""
    statement = select(func.max(Alert.as_of)).where(scope.alert_filter())
    if _assigned_only(scope):
        statement = statement.join(VisitTask, VisitTask.alert_id == Alert.id).where(
            VisitTask.assignee_id == scope.user_id
        )
    value = session.execute(statement).scalar_one_or_none()
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _matching(scope: Scope, as_of: dt.date, filters: dict[str, str]) -> Select[*tuple[Any, ...]]:
    """The rows of the month inside the scope that pass the filters (alerts and their tasks)."""
    assigned = _assigned_only(scope)
    task_join = (
        and_(VisitTask.alert_id == Alert.id, VisitTask.assignee_id == scope.user_id)
        if assigned
        else (VisitTask.alert_id == Alert.id)
    )
    statement: Select[*tuple[Any, ...]] = (
        select(Alert.id)
        .select_from(Alert)
        .join(VisitTask, task_join, isouter=not assigned)
        .where(Alert.as_of == as_of, scope.alert_filter())
    )
    if "village" in filters:
        statement = statement.where(Alert.village_code == filters["village"])
    if "tier" in filters:
        statement = statement.where(Alert.tier == filters["tier"])
    if "status" in filters:
        statement = statement.where(VisitTask.status == filters["status"])
    return statement


def _rows_statement(
    scope: Scope, as_of: dt.date, filters: dict[str, str], limit: int, offset: int
) -> Select[*tuple[Any, ...]]:
    """One statement: the page is ranked and cut on the narrow alert and task columns first (a
    bounded top-N sort, no window), only its rows are joined with their texts and contacts, and
    the total comes from an uncorrelated scalar subquery (counted once, on the indexes)."""
    ranking = (_tier_order(), Alert.rank_in_town, Alert.risk.desc(), Alert.id)
    matching = _matching(scope, as_of, filters)
    page = (
        matching.add_columns(VisitTask.status.label("task_status"), VisitTask.due_date.label("task_due"))
        .order_by(*ranking)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    total = select(func.count()).select_from(matching.subquery("matching")).scalar_subquery()
    return (
        select(
            Alert.id,
            Alert.household_code,
            Alert.village_code,
            Alert.village_name,
            Alert.town_code,
            Alert.tier,
            Alert.rank_in_village,
            func.coalesce(page.c.task_due, Alert.due_date).label("due_date"),
            Alert.reasons_zh,
            Alert.reasons_en,
            Alert.action_zh,
            page.c.task_status.label("status"),
            Alert.hard_triggers,
            AlertContact.head_name,
            AlertContact.head_id_masked,
            AlertContact.address,
            AlertContact.group_name,
            AlertContact.stand_in,
            total.label("total"),
        )
        .select_from(page)
        .join(Alert, Alert.id == page.c.id)
        .outerjoin(AlertContact, AlertContact.alert_id == Alert.id)
        .order_by(*ranking)
    )


def _tier_order() -> Any:
    return case(TIER_ORDER, value=Alert.tier, else_=len(TIERS))


def _split(text: str | None, separator: str) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(separator.strip()) if part.strip())[:TOP_REASONS]


def _labels(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(TRIGGER_SEPARATOR) if t.strip())


def _items(rows: Iterable[Any], today: dt.date, holidays: np.ndarray | None) -> tuple[WorkItem, ...]:
    rows = list(rows)
    due = [r.due_date.date() if isinstance(r.due_date, dt.datetime) else r.due_date for r in rows]
    deadlines = working_days_left(today, due, holidays)
    return tuple(
        WorkItem(
            alert_id=r.id,
            household_code=r.household_code,
            village_code=r.village_code,
            village_name=r.village_name,
            town_code=r.town_code,
            tier=r.tier,
            risk_rank=r.rank_in_village,
            due_date=d.due_date,
            days_left=d.days_left,
            overdue=d.overdue and r.status == "new",
            reasons_zh=_split(r.reasons_zh, SEPARATOR["zh"]),
            reasons_en=_split(r.reasons_en, SEPARATOR["en"]),
            action=r.action_zh or "",
            status=r.status,
            hard_triggers=_labels(r.hard_triggers),
            head_name=r.head_name,
            head_id_masked=r.head_id_masked,
            address=r.address,
            group_name=r.group_name,
            stand_in=bool(r.stand_in),
        )
        for r, d in zip(rows, deadlines, strict=True)
    )


def worklist(
    session: Session,
    scope: Scope,
    *,
    today: dt.date,
    as_of: dt.date | None = None,
    tier: str | None = None,
    village: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    holidays: np.ndarray | None = None,
    now: dt.datetime | None = None,
    audit: bool = True,
) -> Worklist:
    """The user's ranked list for the month (the latest in scope when as_of is None): sorted by
    tier, then rank; filtered by tier, village (inside the scope, else NotFound) and task status.

    Audited as ``view_visits`` in the caller's transaction (count, month and filters, no names)
    unless ``audit`` is false (a caller that audits the same request itself).
    """
    filters = validate_filters(scope, tier=tier, village=village, status=status, limit=limit, offset=offset)
    month = as_of if as_of is not None else latest_month(session, scope)
    items: tuple[WorkItem, ...] = ()
    total = 0
    if month is not None:
        rows = session.execute(_rows_statement(scope, month, filters, limit, offset)).all()
        total = int(rows[0].total) if rows else 0
        if not rows and offset > 0:  # a page past the end: the total still says how many there are
            counted = select(func.count()).select_from(_matching(scope, month, filters).subquery())
            total = int(session.execute(counted).scalar_one())
        items = _items(rows, today, holidays)
    if audit:
        record_audit(
            session,
            actor=scope.name,
            action="view_visits",
            target=f"visits:{month.isoformat() if month else '-'}",
            now=now or dt.datetime.now(dt.UTC),
            detail={"rows": len(items), "total": total, "offset": offset, **filters},
        )
    return Worklist(as_of=month, items=items, total=total, limit=limit, offset=offset, filters=filters)
