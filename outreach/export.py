"""Township visit lists as Excel (one sheet per village) and CSV, for the responsible user only.

A village worker gets their own village's sheet; a town or county officer every village of
the town; anyone else is refused. Every export and every refusal goes to the audit log.

The files are opened in Excel by the bureau, and some cells come from department data (a
head's name), so nothing written can become a formula: workbook text cells are typed as text,
and CSV cells that a spreadsheet would read as a formula are neutralised as OWASP's CSV
injection guidance says (a leading single quote, every field quoted). File names are built
from the validated town code, the month and the user's id only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session, aliased

from lowinc.divisions import contains, validate_code
from lowinc.errors import AccessDenied, NotFound, UserError
from lowinc.home import HomeLayout
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.field import RESULTS, FieldConfig
from outreach.jurisdiction import PERMISSIONS, Scope, acting_user, audited_refusals, scope_of
from outreach.messages import TIER_ZH
from outreach.privacy import mask_ids
from outreach.schema import Alert, AlertContact, OutcomeNeed, User, VisitOutcome, VisitTask
from outreach.superseded import Newer

STATUS_ZH = {"notify": "新预警", "cooldown": "冷却期内（已预警）", "watch": "观察"}
TASK_STATUS_ZH = {"new": "待走访", "visited": "已走访（待办结）", "closed": "已办结"}
STAND_IN = "（联系人）"  # after the name of the member who stands in for a head who left the hukou
NEED_SEPARATOR = "、"
TIER_FILL = {"red": "FFC7CE", "orange": "FFD8A8", "yellow": "FFF2A8", "blue": "DDEBF7"}
# header, width, wrap
COLUMNS: list[tuple[str, int, bool]] = [
    ("排名", 6, False),
    ("预警编号", 9, False),
    ("户编码", 11, False),
    ("户主姓名", 12, False),
    ("身份证号(脱敏)", 21, False),
    ("村/社区", 14, False),
    ("组", 8, False),
    ("地址", 24, True),
    ("预警等级", 9, False),
    ("风险", 8, False),
    ("主要原因", 50, True),
    ("建议措施", 14, True),
    ("截止日期", 12, False),
    ("走访状态", 9, False),
    # the fill-in columns, read back by `lowinc visits import` (outreach/importer.py)
    ("走访日期", 12, False),
    ("核查结果", 11, False),
    ("需求", 20, True),
    ("备注", 30, True),
    ("硬性触发", 22, True),
    ("状态", 16, False),
    ("上次预警", 16, False),
    ("模型版本", 14, False),
]
FILL_IN = ("走访日期", "核查结果", "需求", "备注")
HEADERS = [c[0] for c in COLUMNS]
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# a cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP
# CSV injection: = + - @ tab and carriage return; ASVS 1.2.10 adds the null character)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
FILL_IN_SPARE_ROWS = 0  # the drop-down covers the listed rows only
TASK_STATUSES = ("new", "visited", "closed")
TIERS = ("red", "orange", "yellow", "blue")


@dataclass(frozen=True)
class ExportResult:
    user: str
    town_code: str
    as_of: str
    rows: int
    villages: int
    xlsx: str
    csv: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _read_list(engine: Engine, where: ColumnElement[bool]) -> pd.DataFrame:
    """The listed alerts matching ``where`` with their contact row, task and current outcome."""
    previous = aliased(Alert)
    newer = Newer(VisitOutcome)
    query = (
        select(
            Alert.id.label("alert_id"),
            Alert.household_key,
            Alert.household_code,
            Alert.village_code,
            Alert.village_name,
            Alert.town_name,
            Alert.tier,
            Alert.risk,
            Alert.rank_in_village,
            Alert.hard_triggers,
            Alert.reasons_zh,
            Alert.action_zh,
            Alert.due_date,
            Alert.status,
            Alert.model_version,
            previous.as_of.label("previous_as_of"),
            previous.tier.label("previous_tier"),
            AlertContact.alert_id.label("contact_alert"),
            AlertContact.head_name.label("contact_name"),
            AlertContact.head_id_masked,
            AlertContact.address,
            AlertContact.group_name,
            AlertContact.stand_in,
            VisitTask.status.label("task_status"),
            VisitTask.due_date.label("task_due"),
            VisitOutcome.id.label("outcome_id"),
            VisitOutcome.visited_on,
            VisitOutcome.result,
            VisitOutcome.note,
        )
        .outerjoin(previous, previous.id == Alert.previous_alert_id)
        .outerjoin(AlertContact, AlertContact.alert_id == Alert.id)
        .outerjoin(VisitTask, VisitTask.alert_id == Alert.id)
        .outerjoin(VisitOutcome, VisitOutcome.task_id == VisitTask.id)
        .outerjoin(*newer.join)
        .where(where, newer.current)
        .order_by(Alert.village_code, Alert.rank_in_village, Alert.id)
    )
    with engine.connect() as connection:
        result = connection.execute(query)
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        outcome_ids = [int(i) for i in frame["outcome_id"].dropna().unique()]
        needs = pd.DataFrame(columns=["outcome_id", "category"])
        if outcome_ids:
            rows = connection.execute(
                select(OutcomeNeed.outcome_id, OutcomeNeed.category)
                .where(OutcomeNeed.outcome_id.in_(outcome_ids))
                .order_by(OutcomeNeed.id)
            ).all()
            needs = pd.DataFrame(rows, columns=["outcome_id", "category"])
    frame["need_codes"] = frame["outcome_id"].map(needs.groupby("outcome_id")["category"].agg(list))
    return frame


def _names(frame: pd.DataFrame, heads: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Name and masked ID per row: the alert's contact row (written when it was queued), else the
    heads frame for an alert without one (lists queued before contacts existed)."""
    has_contact = frame["contact_alert"].notna()
    name = frame["contact_name"].where(has_contact)
    stand_in = frame["stand_in"].fillna(False).astype(bool) & has_contact & name.notna()
    name = name.astype("object").where(~stand_in, name.astype("string") + STAND_IN)
    masked = frame["head_id_masked"].where(has_contact)
    if heads is not None and len(heads):
        looked_up = frame[["household_key"]].merge(
            heads[["household_key", "head_id_no", "head_name"]].drop_duplicates("household_key"),
            on="household_key",
            how="left",
        )
        name = name.where(has_contact, looked_up["head_name"].to_numpy())
        masked = masked.where(has_contact, mask_ids(looked_up["head_id_no"]).to_numpy())
    return name.fillna("").astype(str), masked.fillna("").astype(str)


def format_list(
    alerts: pd.DataFrame, heads: pd.DataFrame | None, field: FieldConfig | None = None
) -> pd.DataFrame:
    """The printed columns (Chinese headers): who to ask for, the alert, and the fill-in columns
    (pre-filled with the current record, so a list downloaded after a visit shows it)."""
    field = field or FieldConfig()
    frame = alerts.reset_index(drop=True)
    names, masked = _names(frame, heads)
    previous = [
        "" if pd.isna(d) else f"{d:%Y-%m} {TIER_ZH.get(t, t)}"
        for d, t in zip(frame["previous_as_of"], frame["previous_tier"], strict=True)
    ]
    need_zh = {n.code: n.zh for n in field.needs}
    needs = [
        NEED_SEPARATOR.join(need_zh.get(str(c), str(c)) for c in codes) if isinstance(codes, list) else ""
        for codes in frame["need_codes"]
    ]
    visited = pd.to_datetime(frame["visited_on"])
    out = pd.DataFrame(
        {
            "排名": frame["rank_in_village"].astype(int),
            "预警编号": frame["alert_id"].astype(int),
            "户编码": frame["household_code"].fillna("").astype(str),
            "户主姓名": names,
            "身份证号(脱敏)": masked,
            "村/社区": frame["village_name"],
            "组": frame["group_name"].fillna("").astype(str),
            "地址": frame["address"].fillna("").astype(str),
            "预警等级": frame["tier"].map(TIER_ZH),
            "风险": frame["risk"].round(3),
            "主要原因": frame["reasons_zh"].str.replace("；", "；\n", regex=False),
            "建议措施": frame["action_zh"],
            "截止日期": pd.to_datetime(frame["task_due"].fillna(frame["due_date"])).dt.strftime("%Y-%m-%d"),
            "走访状态": frame["task_status"].map(TASK_STATUS_ZH).fillna(""),
            "走访日期": visited.dt.strftime("%Y-%m-%d").fillna(""),
            "核查结果": frame["result"].map(lambda r: RESULTS[r][0] if r in RESULTS else "").fillna(""),
            "需求": needs,
            "备注": frame["note"].fillna("").astype(str),
            "硬性触发": frame["hard_triggers"],
            "状态": frame["status"].map(STATUS_ZH),
            "上次预警": previous,
            "模型版本": frame["model_version"],
        }
    )
    out["_village_code"] = frame["village_code"].to_numpy()
    out["_tier"] = frame["tier"].to_numpy()
    return out


def sheet_title(name: str, used: set[str]) -> str:
    base = SHEET_NAME_BAD.sub("_", name)[:28] or "村"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base[:26]}_{n}", n + 1
    used.add(candidate)
    return candidate


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell that a spreadsheet would run as a formula prefixed by a
    single quote (OWASP CSV injection); numbers stay numbers."""
    out = frame.copy()
    for column in out.select_dtypes(include=["object", "string"]).columns:
        text = out[column].astype("string")
        risky = text.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
        out[column] = text.mask(risky, "'" + text)
    return out


def write_list_csv(printed: pd.DataFrame, path: Path) -> None:
    """The list as CSV: neutralised cells, every field quoted, a BOM so Excel reads the Chinese."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(printed[HEADERS]).to_csv(
        path, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_ALL
    )


def cells_as_text(sheet: Worksheet) -> None:
    """Type every string cell as text: openpyxl makes a string starting with '=' a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def _result_list(sheet: Worksheet, rows: int) -> None:
    """The 核查结果 column offers the five results as a drop-down (and refuses anything else)."""
    column = get_column_letter(HEADERS.index("核查结果") + 1)
    labels = ",".join(zh for zh, _en in RESULTS.values())
    check = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True, showDropDown=False)
    check.error, check.errorTitle = "请从列表中选择核查结果", "核查结果"
    check.prompt, check.promptTitle = "确认困难 / 暂无困难 / 已在救助 / 联系不上 / 拒绝", "核查结果"
    check.showErrorMessage = check.showInputMessage = True
    sheet.add_data_validation(check)
    check.add(f"{column}2:{column}{max(rows + 1, 2) + FILL_IN_SPARE_ROWS}")


def write_workbook(printed: pd.DataFrame, path: Path | IO[bytes], title: str) -> int:
    """One sheet per village: frozen header, widths, wrapped reasons, tier colours, the result
    drop-down (an empty list: one sheet with the headers). Returns the number of sheets."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    header_font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for _code, village in printed.groupby("_village_code", sort=True):
        sheet = workbook.create_sheet(sheet_title(str(village["村/社区"].iloc[0]), used))
        sheet.append(HEADERS)
        for cell in sheet[1]:
            cell.font = header_font
        for record in village[HEADERS].itertuples(index=False):
            sheet.append(list(record))
        cells_as_text(sheet)
        for i, (_header, width, wraps) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.alignment = wrap if wraps else top
        tier_col = HEADERS.index("预警等级") + 1
        for row_index, tier in enumerate(village["_tier"], start=2):
            sheet.cell(row=row_index, column=tier_col).fill = PatternFill("solid", fgColor=TIER_FILL[tier])
        _result_list(sheet, len(village))
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        sheet.print_title_rows = "1:1"
        sheet.oddHeader.center.text = title
    if not workbook.sheetnames:
        workbook.create_sheet("无").append(HEADERS)
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return len(workbook.sheetnames)


def _entitlement(session: Session, user_name: str, town_code: str) -> tuple[User, Scope]:
    """The acting user and their scope, when it covers the town or a village of it (a worker
    over several villages exports each of theirs in the town); AccessDenied when neither."""
    user = acting_user(session, user_name, "export_list")
    scope = scope_of(session, user)
    if scope.covers(town_code) or any(contains(town_code, v) for v in scope.villages):
        return user, scope
    raise AccessDenied(f"{user_name} may not export town {town_code}")


def export_town_list(
    engine: Engine,
    home: Path,
    *,
    town_code: str,
    as_of: dt.date,
    user_name: str,
    now: dt.datetime,
    heads: pd.DataFrame | None = None,
    write_csv: bool = True,
    field: FieldConfig | None = None,
) -> ExportResult:
    """Write <home>/outreach/exports/<YYYY-MM>/<town>_<YYYY-MM>_u<user id>.xlsx (and .csv) for an
    entitled user; a malformed or unknown town code, an unknown or inactive user and a user
    without the area are refused (UserError/AccessDenied) and audited as export_denied."""
    now = utc_naive(now)
    refusal: dict[str, Any] = {
        "actor": user_name,
        "action": "export_denied",
        "target": f"town:{town_code}",
        "now": now,
    }
    with audited_refusals(engine, **refusal, detail={"as_of": as_of.isoformat()}):
        town_code = validate_code(town_code, "town")
        with transaction(engine) as session:
            user, scope = _entitlement(session, user_name, town_code)
    where = (Alert.town_code == town_code) & (Alert.as_of == as_of) & scope.alert_filter()
    alerts = _read_list(engine, where)
    printed = format_list(alerts, heads, field)
    folder = HomeLayout(Path(home)).exports / f"{as_of:%Y-%m}"
    stem = f"{town_code}_{as_of:%Y-%m}_u{user.id}"
    town_name = str(alerts["town_name"].iloc[0]) if len(alerts) else town_code
    xlsx = folder / f"{stem}.xlsx"
    write_workbook(printed, xlsx, f"{town_name} {as_of:%Y年%m月} 走访名单")
    villages = int(printed["_village_code"].nunique())
    csv_path = None
    if write_csv:
        csv_path = folder / f"{stem}.csv"
        write_list_csv(printed, csv_path)
    with transaction(engine) as session:
        record_audit(
            session,
            actor=user_name,
            action="export_list",
            target=f"town:{town_code}",
            now=now,
            detail={
                "as_of": as_of.isoformat(),
                "rows": len(printed),
                "xlsx": str(xlsx),
                "csv": str(csv_path) if csv_path else None,
            },
        )
    return ExportResult(
        user_name,
        town_code,
        as_of.isoformat(),
        len(printed),
        villages,
        str(xlsx),
        str(csv_path) if csv_path else None,
    )


@dataclass(frozen=True)
class UserList:
    """One user's visit list as a workbook in memory (the /visits.xlsx download)."""

    content: bytes
    filename: str
    rows: int
    as_of: str | None


def user_list_filter(
    session: Session,
    scope: Scope,
    *,
    as_of: dt.date | None,
    tiers: tuple[str, ...] = (),
    village: str | None = None,
    status: str | None = None,
    assigned_only: bool | None = None,
) -> tuple[ColumnElement[bool], dt.date | None]:
    """The WHERE clause of one user's list and its month, as /visits (outreach.worklist) has it:
    inside the scope, the month (default: the newest in the scope); a village worker's own tasks
    (``assigned_only`` None: True for village workers), an officer's whole area; filtered by tier,
    village and task status. A bad filter is a UserError; a village outside the scope (or not a
    village code) answers NotFound."""
    base = scope.alert_filter()
    mine = assigned_only if assigned_only is not None else scope.role == "village_worker"
    if mine:
        base = base & (VisitTask.assignee_id == scope.user_id)
    if as_of is None:
        latest = select(func.max(Alert.as_of)).outerjoin(VisitTask, VisitTask.alert_id == Alert.id)
        as_of = session.execute(latest.where(base)).scalar_one()
    where = base & (Alert.as_of == as_of)
    bad_tiers = [t for t in tiers if t not in TIERS]
    if bad_tiers:
        raise UserError(f"unknown tier {bad_tiers[0][:10]!r}", hint="one of " + ", ".join(TIERS))
    if tiers:
        where = where & Alert.tier.in_(tiers)
    if village:
        try:
            code = validate_code(village, "village")
        except UserError as error:  # the same answer as a village outside the area
            raise NotFound("no such village in your area") from error
        if not scope.covers(code):
            raise NotFound("no such village in your area")
        where = where & (Alert.village_code == code)
    if status:
        if status not in TASK_STATUSES:
            raise UserError(f"unknown status {status[:10]!r}", hint="one of " + ", ".join(TASK_STATUSES))
        where = where & (VisitTask.status == status)
    return where, as_of


def export_user_list(
    engine: Engine,
    scope: Scope,
    as_of: dt.date | None,
    *,
    now: dt.datetime,
    tiers: tuple[str, ...] = (),
    village: str | None = None,
    status: str | None = None,
    assigned_only: bool | None = None,
    heads: pd.DataFrame | None = None,
    field: FieldConfig | None = None,
) -> UserList:
    """The user's own list (:func:`user_list_filter`) as an xlsx workbook in memory, one sheet per
    village, sorted by village, due date and rank (one trip covers a village); audited as
    export_list with the filters and the row count (refusals as export_denied)."""
    now = utc_naive(now)
    detail: dict[str, Any] = {
        "as_of": as_of.isoformat() if as_of else None,
        "tiers": list(tiers)[:4],
        "village": (village or "")[:12] or None,
        "status": (status or "")[:10] or None,
    }
    target = f"visits:u{scope.user_id}"
    with audited_refusals(
        engine, actor=scope.name, action="export_denied", target=target, now=now, detail=detail
    ):
        if scope.role not in PERMISSIONS["export_list"]:
            raise AccessDenied(f"{scope.name} ({scope.role}) may not export list")
        with transaction(engine) as session:
            where, month = user_list_filter(
                session,
                scope,
                as_of=as_of,
                tiers=tiers,
                village=village,
                status=status,
                assigned_only=assigned_only,
            )
    alerts = _read_list(engine, where)
    if len(alerts):
        alerts = alerts.assign(_due=pd.to_datetime(alerts["task_due"])).sort_values(
            ["village_code", "_due", "rank_in_village", "alert_id"], kind="stable"
        )
    printed = format_list(alerts, heads, field)
    buffer = io.BytesIO()
    title = f"{scope.name} {month:%Y年%m月} 走访名单" if month else f"{scope.name} 走访名单"
    write_workbook(printed, buffer, title)
    with transaction(engine) as session:
        record_audit(
            session,
            actor=scope.name,
            action="export_list",
            target=target,
            now=now,
            detail={**detail, "as_of": month.isoformat() if month else None, "rows": len(printed)},
        )
    stem = f"visits_{month:%Y-%m}_u{scope.user_id}" if month else f"visits_u{scope.user_id}"
    return UserList(buffer.getvalue(), f"{stem}.xlsx", len(printed), month.isoformat() if month else None)
