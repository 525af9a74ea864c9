"""The needs register (救助对象需求库): open needs and referrals within a scope, and its export.

Read from the current record of each visit (a superseded record's needs are history), inside the
acting user's scope (:meth:`outreach.jurisdiction.Scope.alert_filter`), for a town or county
officer. Every view and export is audited; the files are formula-safe like the visit lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session

from lowinc.divisions import validate_code
from lowinc.errors import NotFound
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.export import neutralise_formulas
from outreach.field import FieldConfig
from outreach.jurisdiction import Scope, acting_scope, audited_refusals
from outreach.referrals import OPEN_REFERRAL, STATUS_ZH
from outreach.schema import Alert, AlertContact, OutcomeNeed, Referral, VisitOutcome, VisitTask
from outreach.superseded import Newer

NEED_COLUMNS = [
    "need_id",
    "alert_id",
    "household_code",
    "head_name",
    "town_code",
    "town_name",
    "village_name",
    "group_name",
    "category",
    "status",
    "visited_on",
    "recorded_by",
    "age_days",
]
REFERRAL_COLUMNS = [
    "referral_id",
    "alert_id",
    "household_code",
    "head_name",
    "town_code",
    "town_name",
    "village_name",
    "route",
    "department",
    "status",
    "opened_on",
    "due_date",
    "updated_by",
    "note",
    "age_days",
    "overdue",
]


@dataclass(frozen=True)
class NeedsRegister:
    """Open needs and referrals (one row each) and the counts by township and category/department."""

    needs: pd.DataFrame  # NEED_COLUMNS
    referrals: pd.DataFrame  # REFERRAL_COLUMNS
    today: dt.date

    def summary(self) -> pd.DataFrame:
        """town_code, town_name, kind (need|referral), what (category|department), open, oldest_days,
        overdue."""
        parts = []
        if len(self.needs):
            n = self.needs.assign(kind="need", what=self.needs["category"], overdue=False)
            parts.append(n)
        if len(self.referrals):
            parts.append(self.referrals.assign(kind="referral", what=self.referrals["department"]))
        columns = ["town_code", "town_name", "kind", "what", "open", "oldest_days", "overdue"]
        if not parts:
            return pd.DataFrame(columns=columns)
        rows = pd.concat(
            [p[["town_code", "town_name", "kind", "what", "age_days", "overdue"]] for p in parts]
        )
        grouped = rows.groupby(["town_code", "town_name", "kind", "what"], sort=True).agg(
            open=("age_days", "size"), oldest_days=("age_days", "max"), overdue=("overdue", "sum")
        )
        return grouped.reset_index()[columns]


def _town_clause(scope: Scope, town: str | None) -> Any:
    if town is None:
        return scope.alert_filter()
    code = validate_code(town, "town")
    if not scope.covers(code):
        raise NotFound(f"no township {code} in the area of {scope.name}")
    return (Alert.town_code == code) & scope.alert_filter()


def _needs_query(
    scope: Scope, town: str | None, category: str | None, include_met: bool
) -> Select[*tuple[Any, ...]]:
    newer = Newer(VisitOutcome)
    query: Select[*tuple[Any, ...]] = (
        select(
            OutcomeNeed.id.label("need_id"),
            Alert.id.label("alert_id"),
            Alert.household_code,
            AlertContact.head_name,
            Alert.town_code,
            Alert.town_name,
            Alert.village_name,
            AlertContact.group_name,
            OutcomeNeed.category,
            OutcomeNeed.status,
            VisitOutcome.visited_on,
            VisitOutcome.recorded_by,
        )
        .join(VisitOutcome, VisitOutcome.id == OutcomeNeed.outcome_id)
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .join(Alert, Alert.id == VisitTask.alert_id)
        .outerjoin(AlertContact, AlertContact.alert_id == Alert.id)
        .outerjoin(*newer.join)
        .where(newer.current, _town_clause(scope, town))
        .order_by(Alert.town_code, OutcomeNeed.category, VisitOutcome.visited_on, OutcomeNeed.id)
    )
    if not include_met:
        query = query.where(OutcomeNeed.status == "open")
    if category:
        query = query.where(OutcomeNeed.category == category)
    return query


def _referrals_query(
    scope: Scope, town: str | None, department: str | None, include_closed: bool
) -> Select[*tuple[Any, ...]]:
    newer = Newer(VisitOutcome)
    query: Select[*tuple[Any, ...]] = (
        select(
            Referral.id.label("referral_id"),
            Alert.id.label("alert_id"),
            Alert.household_code,
            AlertContact.head_name,
            Alert.town_code,
            Alert.town_name,
            Alert.village_name,
            Referral.route,
            Referral.department,
            Referral.status,
            Referral.created_at,
            Referral.due_date,
            Referral.updated_by,
            Referral.note,
        )
        .join(VisitOutcome, VisitOutcome.id == Referral.outcome_id)
        .join(Alert, Alert.id == Referral.alert_id)
        .outerjoin(AlertContact, AlertContact.alert_id == Alert.id)
        .outerjoin(*newer.join)
        .where(newer.current, _town_clause(scope, town))
        .order_by(Alert.town_code, Referral.department, Referral.due_date, Referral.id)
    )
    if not include_closed:
        query = query.where(Referral.status.in_(OPEN_REFERRAL))
    if department:
        query = query.where(Referral.department == department)
    return query


def _days_since(dates: pd.Series, today: dt.date) -> pd.Series:
    return (pd.Timestamp(today) - pd.to_datetime(dates).dt.normalize()).dt.days.astype("int64")


def read_register(
    session: Session,
    scope: Scope,
    *,
    today: dt.date,
    town: str | None = None,
    category: str | None = None,
    department: str | None = None,
    include_closed: bool = False,
) -> NeedsRegister:
    """The register within the scope (optionally one township of it, one need category, one
    department); open items only unless include_closed. Not audited: the callers are."""
    result = session.execute(_needs_query(scope, town, category, include_closed))
    needs = pd.DataFrame(result.all(), columns=list(result.keys()))
    needs["age_days"] = _days_since(needs["visited_on"], today) if len(needs) else pd.Series(dtype="int64")
    result = session.execute(_referrals_query(scope, town, department, include_closed))
    referrals = pd.DataFrame(result.all(), columns=list(result.keys()))
    if len(referrals):
        referrals["opened_on"] = pd.to_datetime(referrals["created_at"]).dt.date
        referrals["age_days"] = _days_since(referrals["created_at"], today)
        referrals["overdue"] = referrals["status"].isin(OPEN_REFERRAL) & (
            pd.to_datetime(referrals["due_date"]) < pd.Timestamp(today)
        )
    else:
        referrals = referrals.assign(opened_on=None, age_days=0, overdue=False)
    return NeedsRegister(
        needs.reindex(columns=NEED_COLUMNS), referrals.reindex(columns=REFERRAL_COLUMNS), today
    )


def view_register(
    engine: Engine,
    *,
    user_name: str,
    now: dt.datetime,
    today: dt.date,
    town: str | None = None,
    category: str | None = None,
    department: str | None = None,
    include_closed: bool = False,
    action: str = "view_needs",
) -> NeedsRegister:
    """The register for a town or county officer, audited as ``action`` (refusals as
    ``<action>_denied``); a township outside the officer's area answers NotFound."""
    now = utc_naive(now)
    target = f"town:{town}" if town else "needs"
    with (
        audited_refusals(engine, actor=user_name, action=f"{action}_denied", target=target, now=now),
        transaction(engine) as session,
    ):
        scope = acting_scope(session, user_name, "follow_referral")
        register = read_register(
            session,
            scope,
            today=today,
            town=town,
            category=category,
            department=department,
            include_closed=include_closed,
        )
        record_audit(
            session,
            actor=scope.name,
            action=action,
            target=target,
            now=now,
            detail={"needs": len(register.needs), "referrals": len(register.referrals)},
        )
        return register


# --- printing ------------------------------------------------------------------------------

NEED_HEADERS = {
    "need_id": "需求编号",
    "alert_id": "预警编号",
    "household_code": "户编码",
    "head_name": "户主姓名",
    "town_name": "乡镇/街道",
    "village_name": "村/社区",
    "group_name": "组",
    "category": "需求类别",
    "status": "状态",
    "visited_on": "走访日期",
    "recorded_by": "走访人",
    "age_days": "已过天数",
}
REFERRAL_HEADERS = {
    "referral_id": "转介编号",
    "alert_id": "预警编号",
    "household_code": "户编码",
    "head_name": "户主姓名",
    "town_name": "乡镇/街道",
    "village_name": "村/社区",
    "route": "救助路径",
    "department": "承办部门",
    "status": "状态",
    "opened_on": "转办日期",
    "due_date": "办理期限",
    "updated_by": "更新人",
    "note": "备注",
    "age_days": "已过天数",
    "overdue": "是否逾期",
}
NEED_STATUS_ZH = {"open": "待解决", "met": "已解决"}


def printed_needs(register: NeedsRegister, field: FieldConfig) -> pd.DataFrame:
    names = {n.code: n.zh for n in field.needs}
    frame = register.needs.assign(
        category=register.needs["category"].map(lambda c: names.get(c, c)),
        status=register.needs["status"].map(lambda s: NEED_STATUS_ZH.get(s, s)),
        visited_on=pd.to_datetime(register.needs["visited_on"]).dt.strftime("%Y-%m-%d"),
    )
    frame = frame.astype({"need_id": "Int64", "alert_id": "Int64", "age_days": "Int64"})
    return frame[list(NEED_HEADERS)].rename(columns=NEED_HEADERS)


def printed_referrals(register: NeedsRegister, field: FieldConfig) -> pd.DataFrame:
    names = {r.code: r.zh for r in field.routes}
    r = register.referrals
    frame = r.assign(
        route=r["route"].map(lambda c: names.get(c, c)),
        status=r["status"].map(lambda s: STATUS_ZH.get(s, s)),
        opened_on=pd.to_datetime(r["opened_on"]).dt.strftime("%Y-%m-%d"),
        due_date=pd.to_datetime(r["due_date"]).dt.strftime("%Y-%m-%d"),
        overdue=r["overdue"].map(lambda o: "逾期" if bool(o) else ""),
    )
    frame = frame.astype({"referral_id": "Int64", "alert_id": "Int64", "age_days": "Int64"})
    return frame[list(REFERRAL_HEADERS)].rename(columns=REFERRAL_HEADERS)


def _sheet(workbook: Workbook, title: str, frame: pd.DataFrame) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in frame.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in record])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: no formula from a name or a note
    for i, header in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(8, min(30, 2 * len(str(header)) + 4))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def register_xlsx(register: NeedsRegister, field: FieldConfig) -> bytes:
    """The register as a workbook: sheets 需求 and 转介 (text cells typed as text)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    _sheet(workbook, "需求", printed_needs(register, field))
    _sheet(workbook, "转介", printed_referrals(register, field))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def register_csv(register: NeedsRegister, field: FieldConfig) -> bytes:
    """The register as one CSV (a 类型 column: 需求 or 转介), every field quoted, formula-safe."""
    needs = printed_needs(register, field).assign(类型="需求")
    referrals = printed_referrals(register, field).assign(类型="转介")
    frame = pd.concat([needs, referrals], ignore_index=True)
    frame = frame[["类型", *[c for c in frame.columns if c != "类型"]]].astype("object")
    text = neutralise_formulas(frame.where(frame.notna(), "")).to_csv(index=False, quoting=csv.QUOTE_ALL)
    return ("\ufeff" + text).encode("utf-8")


@dataclass(frozen=True)
class NeedsExport:
    content: bytes
    filename: str
    needs: int
    referrals: int


def export_register(
    engine: Engine,
    *,
    user_name: str,
    now: dt.datetime,
    today: dt.date,
    town: str | None,
    as_csv: bool = False,
    field: FieldConfig | None = None,
) -> NeedsExport:
    """The register as xlsx (or csv) bytes for a town or county officer, audited as export_needs;
    the file name holds only the validated town code, the date and the user's id."""
    field = field or FieldConfig()
    register = view_register(
        engine, user_name=user_name, now=now, today=today, town=town, action="export_needs"
    )
    with transaction(engine) as session:
        user_id = acting_scope(session, user_name, "follow_referral").user_id
    stem = f"needs_{town or 'area'}_{today:%Y%m%d}_u{user_id}"
    content = register_csv(register, field) if as_csv else register_xlsx(register, field)
    return NeedsExport(
        content, f"{stem}.{'csv' if as_csv else 'xlsx'}", len(register.needs), len(register.referrals)
    )
