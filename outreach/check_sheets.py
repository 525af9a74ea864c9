"""The 核查 and 渐退 lists as an offline workbook, and the filled workbook read back.

A worker (or officer) downloads the rows of their area of one list and month (named, masked ID,
reasons, due date, the current record pre-filled), one sheet per village. In the field they fill
核查日期, 核查结果 (a drop-down of the list's results) and 备注; ``lowinc visits check-import``
reads it back. Every filled row goes through :func:`outreach.checks.record_check` with source
``import``: the same rules, scope and audit as the page. Each row names its list and month
(名单, 名单月份) and its household by 户编码, so a row moved to another sheet or file still
finds its own list row; a household not on the list in the user's area is refused, like a code
that does not exist. The reading guards (size, unpacked size, sheets, rows, formulas) are
:mod:`outreach.importer`'s; re-reading the same file records nothing new (unchanged rows).
A record never decides eligibility; the workbook's header says so.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Engine

from lowinc.errors import AccessDenied, BadValue
from lowinc.home import HomeLayout
from outreach.audit import record_audit
from outreach.check_records import CHECK_RESULTS, check_kind, check_result
from outreach.checks import CheckRecorded, record_check
from outreach.db import transaction, utc_naive
from outreach.export import UserList, cells_as_text, sheet_title
from outreach.field import FieldConfig
from outreach.importer import (
    ImportReport,
    RowRefused,
    cell_date,
    read_filled,
    run_import,
    text_of,
)
from outreach.jurisdiction import PERMISSIONS, Scope, acting_scope, audited_refusals
from outreach.other_lists import ListRow, check_list_rows
from scoring.recipients import PHASE_OUT, REVERIFY

KIND_ZH = {REVERIFY: "核查", PHASE_OUT: "渐退"}
STATE_ZH = {"dibao": "低保", "tekun": "特困", "edge": "低保边缘"}
LIST_HEADER, MONTH_HEADER, CODE_HEADER = "名单", "名单月份", "户编码"
DATE_HEADER, RESULT_HEADER, NOTE_HEADER = "核查日期", "核查结果", "备注"
FILL_IN = (DATE_HEADER, RESULT_HEADER, NOTE_HEADER)
# header, width, wrap
COLUMNS: list[tuple[str, int, bool]] = [
    (LIST_HEADER, 6, False),
    (MONTH_HEADER, 11, False),
    ("排名", 6, False),
    (CODE_HEADER, 11, False),
    ("户主姓名", 14, False),
    ("身份证号(脱敏)", 21, False),
    ("村/社区", 14, False),
    ("救助类别", 10, False),
    ("主要原因", 50, True),
    ("截止日期", 12, False),
    (DATE_HEADER, 12, False),
    (RESULT_HEADER, 24, False),
    (NOTE_HEADER, 30, True),
]
HEADERS = [c[0] for c in COLUMNS]
NOT_A_DECISION = "核查记录只供乡镇（街道）复核参考，不据此停发或取消救助"
STAND_IN = "（联系人）"


@dataclass(frozen=True)
class FilledCheck:
    sheet: str
    row: int
    kind: str
    as_of: dt.date
    household_code: str
    checked_on: dt.date
    result: str
    note: str | None


def _values(row: ListRow, kind: str, as_of: dt.date) -> list[object]:
    recorded = row.check
    name = row.name or ""
    return [
        KIND_ZH[kind],
        as_of.isoformat(),
        row.rank_in_town if row.rank_in_town is not None else "",
        row.household_code or "",
        f"{name}{STAND_IN}" if row.stand_in and name else name,
        row.id_masked or "",
        row.village_name,
        STATE_ZH.get(row.assistance_state or "", row.assistance_state or ""),
        "；\n".join(row.reasons_zh),
        row.due_date.isoformat() if row.due_date else "",
        recorded[0].isoformat() if recorded else "",
        CHECK_RESULTS[kind][recorded[1]][0] if recorded and recorded[1] in CHECK_RESULTS[kind] else "",
        (recorded[2] or "") if recorded else "",
    ]


def _result_list(sheet: Any, kind: str, rows: int) -> None:
    column = get_column_letter(HEADERS.index(RESULT_HEADER) + 1)
    labels = [zh for zh, _en in CHECK_RESULTS[kind].values()]
    check = DataValidation(type="list", formula1=f'"{",".join(labels)}"', allow_blank=True)
    check.error, check.errorTitle = "请从列表中选择核查结果", RESULT_HEADER
    check.prompt, check.promptTitle = " / ".join(labels), RESULT_HEADER
    check.showErrorMessage = check.showInputMessage = True
    sheet.add_data_validation(check)
    check.add(f"{column}2:{column}{max(rows + 1, 2)}")


def write_check_workbook(rows: tuple[ListRow, ...], kind: str, as_of: dt.date, title: str) -> bytes:
    """One sheet per village (text cells typed as text, so nothing becomes a formula), the
    results of the list as a drop-down, the header repeated on every printed page."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    villages: dict[str, list[ListRow]] = {}
    for row in rows:
        villages.setdefault(row.village_code, []).append(row)
    for code in sorted(villages) or [""]:
        members = villages.get(code, [])
        sheet = workbook.create_sheet(sheet_title(members[0].village_name if members else "无", used))
        sheet.append(HEADERS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in members:
            sheet.append(_values(row, kind, as_of))
        cells_as_text(sheet)
        for i, (_header, width, wraps) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.alignment = wrap if wraps else top
        _result_list(sheet, kind, len(members))
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        sheet.print_title_rows = "1:1"
        sheet.oddHeader.center.text = title
        sheet.oddFooter.center.text = NOT_A_DECISION
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _target(kind: str, as_of: dt.date) -> str:
    return f"checks:{str(kind)[:12]}:{as_of.isoformat()}"


def export_check_list_as(
    engine: Engine, layout: HomeLayout, user_name: str, *, kind: str, as_of: dt.date, now: dt.datetime
) -> UserList:
    """:func:`export_check_list` for the active user of that name (the command line); an unknown
    or inactive user, or one who may not export, is refused and audited as ``export_denied``."""
    now = utc_naive(now)
    with (
        audited_refusals(
            engine, actor=user_name, action="export_denied", target=_target(kind, as_of), now=now
        ),
        transaction(engine) as session,
    ):
        scope = acting_scope(session, user_name, "export_list")
    return export_check_list(engine, layout, scope, kind=kind, as_of=as_of, now=now)


def export_check_list(
    engine: Engine, layout: HomeLayout, scope: Scope, *, kind: str, as_of: dt.date, now: dt.datetime
) -> UserList:
    """The user's rows of the 核查 or 渐退 list of the month as a workbook in memory; audited as
    ``export_check_list`` (kind, month, rows; no names), a refusal as ``export_denied``."""
    now = utc_naive(now)
    target = _target(kind, as_of)
    detail: dict[str, Any] = {"kind": str(kind)[:12], "as_of": as_of.isoformat()}
    with audited_refusals(
        engine, actor=scope.name, action="export_denied", target=target, now=now, detail=detail
    ):
        if scope.role not in PERMISSIONS["export_list"]:
            raise AccessDenied(f"{scope.name} ({scope.role}) may not export list")
        kind = check_kind(kind)
        with transaction(engine) as session:
            rows = check_list_rows(session, layout, scope, kind=kind, as_of=as_of)
    content = write_check_workbook(rows, kind, as_of, f"{scope.name} {as_of:%Y年%m月} {KIND_ZH[kind]}名单")
    with transaction(engine) as session:
        record_audit(
            session,
            actor=scope.name,
            action="export_check_list",
            target=target,
            now=now,
            detail=detail | {"rows": len(rows)},
        )
    return UserList(content, f"{kind}_{as_of:%Y-%m}_u{scope.user_id}.xlsx", len(rows), as_of.isoformat())


# --- reading a filled workbook back ---------------------------------------------------------

KIND_OF_TEXT = {zh: kind for kind, zh in KIND_ZH.items()} | {kind: kind for kind in KIND_ZH}


def parse_check_row(sheet: str, number: int, cells: dict[str, Any], formulas: set[str]) -> FilledCheck | None:
    """One sheet row as a filled re-verification record; None when no fill-in cell is filled;
    RowRefused with a reason (never quoting a cell) when it cannot be one."""
    for header in (LIST_HEADER, MONTH_HEADER, CODE_HEADER, *FILL_IN):
        if header in formulas:
            raise RowRefused(f"{header} holds a formula (enter values, not formulas)")
    if not any(text_of(cells.get(h)) for h in (DATE_HEADER, RESULT_HEADER)):
        return None  # a note alone is not a visit
    kind = KIND_OF_TEXT.get(text_of(cells.get(LIST_HEADER)))
    if kind is None:
        raise RowRefused(f"{LIST_HEADER} is not 核查 or 渐退 (keep the column as exported)")
    month = cell_date(cells.get(MONTH_HEADER), MONTH_HEADER)
    if month.day != 1:
        raise RowRefused(f"{MONTH_HEADER} is not the 1st of a month (keep the column as exported)")
    code = text_of(cells.get(CODE_HEADER))
    if not code or len(code) > 20:
        raise RowRefused(f"{CODE_HEADER} is empty or not a household code (keep the column as exported)")
    result_text = text_of(cells.get(RESULT_HEADER))
    labels = "/".join(zh for zh, _en in CHECK_RESULTS[kind].values())
    if not result_text:
        raise RowRefused(f"{RESULT_HEADER} is empty (one of {labels})")
    try:
        result = check_result(kind, result_text)
    except BadValue:
        raise RowRefused(f"{RESULT_HEADER} is not one of {labels}") from None
    if not text_of(cells.get(DATE_HEADER)):
        raise RowRefused(f"{DATE_HEADER} is empty (the day of the visit, YYYY-MM-DD)")
    return FilledCheck(
        sheet=sheet,
        row=number,
        kind=kind,
        as_of=month,
        household_code=code,
        checked_on=cell_date(cells.get(DATE_HEADER), DATE_HEADER),
        result=result,
        note=text_of(cells.get(NOTE_HEADER)) or None,
    )


def import_checks(
    engine: Engine,
    layout: HomeLayout,
    data: bytes,
    *,
    user_name: str,
    now: dt.datetime,
    field: FieldConfig | None = None,
    corrections: bool = False,
) -> ImportReport:
    """Record every filled row of a re-verification workbook (bytes, see
    :func:`outreach.importer.read_upload`) as the acting user; audited as ``import_checks`` with
    the counts and the file's SHA-256 (a refusal of the whole file as ``import_checks_denied``)."""
    fields = field or FieldConfig()
    now = utc_naive(now)

    def record(row: FilledCheck) -> CheckRecorded:
        return record_check(
            engine,
            layout,
            kind=row.kind,
            as_of=row.as_of,
            household_code=row.household_code,
            user_name=user_name,
            checked_on=row.checked_on,
            result=row.result,
            note=row.note,
            now=now,
            source="import",
            field=fields,
            skip_identical=True,
            replace_current=corrections,
        )

    def read(data: bytes, report: ImportReport) -> list[FilledCheck]:
        return read_filled(data, report, parse_check_row, (CODE_HEADER, DATE_HEADER, RESULT_HEADER))

    return run_import(
        engine, data, user_name=user_name, now=now, action="import_checks", read=read, record=record
    )
