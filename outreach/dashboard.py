"""What a township or county officer watches: completion, overdue visits, outcomes, needs, reasons.

Every figure is a SQL aggregate over the rows inside the officer's scope
(:meth:`outreach.jurisdiction.Scope.alert_filter`); pandas only pivots the few aggregated rows.
Visits are those of one list month (default: the newest in the scope); needs and referrals are
everything still open, with their age. The field-verified precision of the list is confirmed ÷
visits with a label result (确认困难 + 暂无困难), per tier and overall.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, case, func, literal, select
from sqlalchemy.orm import Session

from lowinc.home import ENTITLEMENTS_FILE, RECIPIENT_CHECKS_FILE, HomeLayout
from outreach.audit import record_audit
from outreach.check_records import CHECK_RESULTS, result_counts
from outreach.db import transaction, utc_naive
from outreach.entitlements import take_up
from outreach.field import RESULTS
from outreach.jurisdiction import Scope, acting_scope, audited_refusals
from outreach.other_lists import read_in_scope
from outreach.outcomes import LABELS
from outreach.referrals import OPEN_REFERRAL
from outreach.schema import Alert, OutcomeNeed, OutcomeRoute, Referral, User, VisitOutcome, VisitTask
from outreach.superseded import Newer

TIERS = ("red", "orange", "yellow", "blue")
AGE_BUCKETS = ("0-7", "8-30", "31+")  # days since the need was found / the referral was sent
OVERDUE_SHOWN = 50
TOP_REASONS = 10
# the numbers inside a reason text (38,200 元, 64%, 2024年3月): the kind of reason is what is counted
NUMBER = re.compile(r"\d[\d,.]*")


@dataclass(frozen=True)
class Dashboard:
    as_of: dt.date | None
    today: dt.date
    by_village: (
        pd.DataFrame
    )  # village_code, village_name, town_name, tasks, due, visited, overdue, completion
    by_worker: pd.DataFrame  # worker, tasks, due, visited, overdue, completion
    overdue: pd.DataFrame  # alert_id, household_code, village_name, tier, due_date, days_overdue, worker
    overdue_total: int
    outcomes_by_tier: pd.DataFrame  # tier, <each result>, visited, labelled, precision
    precision: float | None  # confirmed ÷ (confirmed + no_hardship), None before any label
    needs_by_category: pd.DataFrame  # category, 0-7, 8-30, 31+, open
    referrals_by_department: pd.DataFrame  # department, 0-7, 8-30, 31+, open, overdue
    top_reasons: pd.DataFrame  # reason, confirmed
    # entitlements of the visited households (应救尽救): programme, gaps, offered, taken_up
    take_up: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    # re-verification visits (定期核查) of the month's 核查 / 渐退 lists: kind, listed, recorded,
    # and one column per result of the kind (outreach.check_records.CHECK_RESULTS)
    checks: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)


def _latest_as_of(session: Session, scope: Scope) -> dt.date | None:
    return session.execute(select(func.max(Alert.as_of)).where(scope.alert_filter())).scalar_one()


def _completion(rows: list[Any], keys: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*keys, "tasks", "due", "visited", "overdue"])
    for column in ("tasks", "due", "visited", "overdue"):
        frame[column] = frame[column].fillna(0).astype("int64")
    frame["completion"] = (frame["visited"] / frame["due"].where(frame["due"] > 0)).round(3)
    return frame


def _task_counts(today: dt.date) -> list[Any]:
    visited = VisitTask.status != "new"
    return [
        func.count(VisitTask.id).label("tasks"),
        func.sum(case((visited | (VisitTask.due_date <= today), 1), else_=0)).label("due"),
        func.sum(case((visited, 1), else_=0)).label("visited"),
        func.sum(case(((VisitTask.status == "new") & (VisitTask.due_date < today), 1), else_=0)).label(
            "overdue"
        ),
    ]


def _age_bucket(column: Any, today: dt.date) -> Any:
    week = dt.datetime.combine(today - dt.timedelta(days=7), dt.time())
    month = dt.datetime.combine(today - dt.timedelta(days=30), dt.time())
    return case(
        (column >= week, literal(AGE_BUCKETS[0])),
        (column >= month, literal(AGE_BUCKETS[1])),
        else_=literal(AGE_BUCKETS[2]),
    )


def _by_age(rows: list[Any], key: str, extra: list[str] = ()) -> pd.DataFrame:  # type: ignore[assignment]
    frame = pd.DataFrame(rows, columns=[key, "age", "n", *extra])
    columns = [key, *AGE_BUCKETS, "open", *extra]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    table = frame.pivot_table(index=key, columns="age", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=list(AGE_BUCKETS), fill_value=0).astype("int64")
    table.columns.name = None
    table["open"] = table.sum(axis=1)
    for column in extra:
        table[column] = frame.groupby(key)[column].sum().astype("int64")
    return (
        table.reset_index()
        .sort_values("open", ascending=False, kind="stable")[columns]
        .reset_index(drop=True)
    )


def reason_kinds(reasons: pd.DataFrame) -> pd.DataFrame:
    """Count the kinds of reason over (reasons_zh, n) rows: each text split at ；, numbers → …"""
    counts: Counter[str] = Counter()
    for text, n in zip(reasons["reasons_zh"], reasons["n"], strict=True):
        for part in str(text or "").split("；"):
            part = part.strip()
            if part:
                counts[NUMBER.sub("…", part)] += int(n)
    top = counts.most_common(TOP_REASONS)
    return pd.DataFrame(top, columns=["reason", "confirmed"])


def read_dashboard(
    session: Session,
    scope: Scope,
    *,
    today: dt.date,
    as_of: dt.date | None = None,
    layout: HomeLayout | None = None,
) -> Dashboard:
    """The dashboard's figures within the scope (not audited: view_dashboard is); with the
    home's ``layout``, the entitlements taken up after contact too."""
    as_of = as_of or _latest_as_of(session, scope)
    in_month = scope.alert_filter() & (Alert.as_of == as_of)
    base = select().select_from(VisitTask).join(Alert, Alert.id == VisitTask.alert_id).where(in_month)

    village_rows = session.execute(
        base.add_columns(Alert.village_code, Alert.village_name, Alert.town_name, *_task_counts(today))
        .group_by(Alert.village_code, Alert.village_name, Alert.town_name)
        .order_by(Alert.village_code)
    ).all()
    by_village = _completion(list(village_rows), ["village_code", "village_name", "town_name"])

    worker = func.coalesce(User.name, literal("—"))
    worker_rows = session.execute(
        base.outerjoin(User, User.id == VisitTask.assignee_id)
        .add_columns(worker.label("worker"), *_task_counts(today))
        .group_by(worker)
        .order_by(worker)
    ).all()
    by_worker = _completion(list(worker_rows), ["worker"])

    late = (VisitTask.status == "new") & (VisitTask.due_date < today)
    overdue_total = session.execute(base.add_columns(func.count(VisitTask.id)).where(late)).scalar_one()
    overdue_rows = session.execute(
        base.outerjoin(User, User.id == VisitTask.assignee_id)
        .add_columns(
            Alert.id,
            Alert.household_code,
            Alert.village_name,
            Alert.tier,
            VisitTask.due_date,
            worker.label("w"),
        )
        .where(late)
        .order_by(VisitTask.due_date, Alert.id)
        .limit(OVERDUE_SHOWN)
    ).all()
    overdue = pd.DataFrame(
        overdue_rows, columns=["alert_id", "household_code", "village_name", "tier", "due_date", "worker"]
    )
    overdue.insert(
        5,
        "days_overdue",
        (pd.Timestamp(today) - pd.to_datetime(overdue["due_date"])).dt.days.astype("int64")
        if len(overdue)
        else pd.Series(dtype="int64"),
    )

    newer = Newer(VisitOutcome)
    outcome_rows = session.execute(
        select(Alert.tier, Alert.selection, VisitOutcome.result, func.count(VisitOutcome.id))
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .outerjoin(*newer.join)
        .where(newer.current, in_month)
        .group_by(Alert.tier, Alert.selection, VisitOutcome.result)
    ).all()
    outcomes_by_tier, precision = _outcomes_table(list(outcome_rows))

    newer = Newer(VisitOutcome)
    age = _age_bucket(VisitOutcome.visited_on, today).label("age")
    need_rows = session.execute(
        select(OutcomeNeed.category, age, func.count(OutcomeNeed.id))
        .join(VisitOutcome, VisitOutcome.id == OutcomeNeed.outcome_id)
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .outerjoin(*newer.join)
        .where(newer.current, scope.alert_filter(), OutcomeNeed.status == "open")
        .group_by(OutcomeNeed.category, age)
    ).all()
    needs_by_category = _by_age(list(need_rows), "category")

    newer = Newer(VisitOutcome)
    sent = _age_bucket(Referral.created_at, today).label("age")
    referral_rows = session.execute(
        select(
            Referral.department,
            sent,
            func.count(Referral.id),
            func.sum(case((Referral.due_date < today, 1), else_=0)),
        )
        .join(VisitOutcome, VisitOutcome.id == Referral.outcome_id)
        .join(Alert, Alert.id == Referral.alert_id)
        .outerjoin(*newer.join)
        .where(newer.current, scope.alert_filter(), Referral.status.in_(OPEN_REFERRAL))
        .group_by(Referral.department, sent)
    ).all()
    referrals_by_department = _by_age(list(referral_rows), "department", ["overdue"])

    newer = Newer(VisitOutcome)
    reason_rows = session.execute(
        select(Alert.reasons_zh, func.count(VisitOutcome.id))
        .join(VisitTask, VisitTask.alert_id == Alert.id)
        .join(VisitOutcome, VisitOutcome.task_id == VisitTask.id)
        .outerjoin(*newer.join)
        .where(newer.current, scope.alert_filter(), VisitOutcome.result == "confirmed")
        .group_by(Alert.reasons_zh)
    ).all()
    top_reasons = reason_kinds(pd.DataFrame(reason_rows, columns=["reasons_zh", "n"]))
    return Dashboard(
        as_of=as_of,
        today=today,
        by_village=by_village,
        by_worker=by_worker,
        overdue=overdue,
        overdue_total=int(overdue_total or 0),
        outcomes_by_tier=outcomes_by_tier,
        precision=precision,
        needs_by_category=needs_by_category,
        referrals_by_department=referrals_by_department,
        top_reasons=top_reasons,
        take_up=_take_up(session, scope, as_of, layout) if layout is not None and as_of else pd.DataFrame(),
        checks=_checks(session, scope, as_of, layout) if layout is not None and as_of else pd.DataFrame(),
    )


def _checks(session: Session, scope: Scope, as_of: dt.date, layout: HomeLayout) -> pd.DataFrame:
    """Per re-verification list of the month: households listed in the scope, visits recorded,
    and the count of each result."""
    path = layout.scores_at(as_of) / RECIPIENT_CHECKS_FILE
    listed = read_in_scope(path, ["kind"], scope, None) if path.exists() else pd.DataFrame(columns=["kind"])
    sizes = listed["kind"].astype(str).value_counts()
    counts = result_counts(session, scope, as_of)
    rows = []
    for kind, results in CHECK_RESULTS.items():
        by_result = {code: counts.get((kind, code), 0) for code in results}
        rows.append({"kind": kind, "listed": int(sizes.get(kind, 0)), "recorded": sum(by_result.values())})
        rows[-1] |= by_result
    frame = pd.DataFrame(rows)
    numbers = [c for c in frame.columns if c != "kind"]
    frame[numbers] = frame[numbers].fillna(0).astype("int64")  # a result of the other kind: 0
    return frame


def _take_up(session: Session, scope: Scope, as_of: dt.date, layout: HomeLayout) -> pd.DataFrame:
    """Entitlements offered and taken up by the households visited from the month's list: the
    routes of their current records, the referrals' status, and the newest entitlement check."""
    newer = Newer(VisitOutcome)
    rows = session.execute(
        select(Alert.household_key, OutcomeRoute.route, Referral.status)
        .select_from(VisitOutcome)
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .outerjoin(*newer.join)
        .outerjoin(OutcomeRoute, OutcomeRoute.outcome_id == VisitOutcome.id)
        .outerjoin(
            Referral, (Referral.outcome_id == VisitOutcome.id) & (Referral.route == OutcomeRoute.route)
        )
        .where(newer.current, scope.alert_filter(), Alert.as_of == as_of)
    ).all()
    visits = pd.DataFrame(rows, columns=["household_key", "route", "referral_status"])
    checks = [d for d in layout.dates_with(ENTITLEMENTS_FILE) if d > as_of]
    return take_up(layout, as_of, visits, checks[-1] if checks else None)


EXPLORED = "explore"  # the row of households drawn at random for exploration (scoring.exploration)


def _outcomes_table(rows: list[Any]) -> tuple[pd.DataFrame, float | None]:
    """Results by tier of the households listed by rank, and a row of their own for those drawn
    for exploration; the list's precision counts the ranked ones only."""
    frame = pd.DataFrame(rows, columns=["tier", "selection", "result", "n"])
    frame["tier"] = frame["tier"].where(frame["selection"] != EXPLORED, EXPLORED)
    table = (
        frame.pivot_table(index="tier", columns="result", values="n", aggfunc="sum", fill_value=0)
        if len(frame)
        else pd.DataFrame()
    )
    table = (
        table.reindex(index=[*TIERS, EXPLORED], columns=list(RESULTS), fill_value=0).fillna(0).astype("int64")
    )
    table.columns.name = None
    table["visited"] = table.sum(axis=1)
    table["labelled"] = table[list(LABELS)].sum(axis=1)
    table["precision"] = (table["confirmed"] / table["labelled"].where(table["labelled"] > 0)).round(3)
    ranked = table.drop(index=EXPLORED)
    labelled = int(ranked["labelled"].sum())
    precision = round(int(ranked["confirmed"].sum()) / labelled, 3) if labelled else None
    return table.rename_axis("tier").reset_index(), precision


def view_dashboard(
    engine: Engine,
    *,
    user_name: str,
    now: dt.datetime,
    today: dt.date,
    as_of: dt.date | None = None,
    layout: HomeLayout | None = None,
) -> Dashboard:
    """The dashboard for a town or county officer, audited as view_dashboard (refusals too)."""
    now = utc_naive(now)
    with (
        audited_refusals(
            engine, actor=user_name, action="view_dashboard_denied", target="dashboard", now=now
        ),
        transaction(engine) as session,
    ):
        scope = acting_scope(session, user_name, "view_dashboard")
        board = read_dashboard(session, scope, today=today, as_of=as_of, layout=layout)
        record_audit(
            session,
            actor=scope.name,
            action="view_dashboard",
            target="dashboard",
            now=now,
            detail={"as_of": board.as_of.isoformat() if board.as_of else None},
        )
        return board
