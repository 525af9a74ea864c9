"""Reading a filled-in visit list back (`lowinc visits import FILE.xlsx`).

The workbook is the one :mod:`outreach.export` writes: per row 预警编号 and 户编码 identify the
alert, and the fill-in columns 走访日期, 核查结果, 需求, 备注 say what the visit found. Each
filled row goes through :func:`outreach.outcomes.record_outcome` with source ``import``: the
same rules, scope and audit as the web form. The file is hostile until read: its size, its
unpacked size, its sheets, rows and columns are limited before openpyxl parses it; a formula is
refused (values only); every row that is not recorded is counted as empty, unchanged or refused
with the sheet, the row and the reason, so nothing is dropped silently. Reading the same file
again records nothing new: a row identical to the current record is reported unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine

from ingest.readers import FileRejected, open_delivered, sheet_rows
from lowinc.errors import UserError
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.field import RESULTS, FieldConfig, result_code
from outreach.jurisdiction import acting_scope, audited_refusals
from outreach.outcomes import record_outcome

MAX_FILE_BYTES = 20 << 20
MAX_UNPACKED_BYTES = 200 << 20
MAX_SHEETS = 500
MAX_ROWS = 20_000  # per sheet, and in the whole file
MAX_COLUMNS = 60
HEADER_SEARCH_ROWS = 5
ID_HEADER, CODE_HEADER = "预警编号", "户编码"
DATE_HEADER, RESULT_HEADER, NEEDS_HEADER, NOTE_HEADER = "走访日期", "核查结果", "需求", "备注"
FILL_IN = (DATE_HEADER, RESULT_HEADER, NEEDS_HEADER, NOTE_HEADER)
NEED_SPLIT = re.compile(r"[、,，;；/\s]+")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
RESULT_HINT = "/".join(zh for zh, _en in RESULTS.values())
Row = TypeVar("Row")
# (sheet, row number, cells by header, headers holding a formula) -> a filled row or None (empty)
RowParser = Callable[[str, int, dict[str, Any], set[str]], Row | None]


@dataclass(frozen=True)
class RowProblem:
    """A row (or a whole sheet, row 0) that was not recorded, and why (no cell value quoted)."""

    sheet: str
    row: int
    reason: str

    def line(self) -> str:
        where = f"sheet {self.sheet} row {self.row}" if self.row else f"sheet {self.sheet}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did with every row that carried an alert number."""

    rows: int = 0  # rows with an alert number
    recorded: int = 0  # new records (first records and corrections)
    corrected: int = 0  # of which corrections
    unchanged: int = 0  # identical to the current record: nothing written
    empty: int = 0  # no fill-in cell filled
    refused: list[RowProblem] = field(default_factory=list)
    sha256: str = ""
    sheets: list[str] = field(default_factory=list)  # in the workbook's order

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refused"] = [p.line() for p in self.refused]
        return data


@dataclass(frozen=True)
class FilledRow:
    sheet: str
    row: int
    alert_id: int
    household_code: str | None
    visited_on: dt.date
    result: str
    needs: tuple[str, ...]
    note: str | None


class RowRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the file -----------------------------------------------------------------------------


def read_upload(path: Path) -> bytes:
    """The file's bytes: a regular file (no symbolic link), within the size limit, a zip whose
    parts unpack within the limit. One-line UserError otherwise."""
    try:
        with open_delivered(path) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileRejected as error:
        raise UserError(f"{path.name}: {error.reason}", hint="give the .xlsx file itself") from None
    except OSError:
        raise UserError(f"{path.name} cannot be read", hint="give the .xlsx file itself") from None
    if len(data) > MAX_FILE_BYTES:
        raise UserError(
            f"{path.name} is over {MAX_FILE_BYTES >> 20} MB", hint="import one township's list at a time"
        )
    check_workbook_bytes(data, path.name)
    return data


def check_workbook_bytes(data: bytes, name: str) -> None:
    """Refuse what is not an xlsx zip, or unpacks beyond the limit (a zip bomb), before parsing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UserError(f"{name} is not an Excel workbook (.xlsx)", hint="save the list as .xlsx") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise UserError(
            f"{name} unpacks to more than {MAX_UNPACKED_BYTES >> 20} MB", hint="import the list as exported"
        )


def text_of(value: object) -> str:
    """A cell's value as stripped text (a whole float without its '.0'; empty for None)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_date(value: object, header: str = DATE_HEADER) -> dt.date:
    """A cell's date: an Excel date, or text in one of DATE_FORMATS; RowRefused naming the header."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = text_of(value)
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowRefused(f"{header} is not a date (write YYYY-MM-DD)")


def _alert_id(value: object) -> int | None:
    text = text_of(value)
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise RowRefused(f"{ID_HEADER} is not an alert number (keep the column as exported)")
    return int(text)


def _needs(value: object, fields: FieldConfig) -> tuple[str, ...]:
    items = [p for p in NEED_SPLIT.split(text_of(value)) if p]
    codes = []
    for position, item in enumerate(items, start=1):
        code = fields.need_code(item)
        if code is None:
            names = "、".join(n.zh for n in fields.needs)
            raise RowRefused(f"{NEEDS_HEADER}: item {position} is not a known need (use {names})")
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def parse_row(
    sheet: str, number: int, cells: dict[str, Any], formulas: set[str], fields: FieldConfig
) -> FilledRow | None:
    """One sheet row as a filled record; None when no fill-in cell is filled; RowRefused with a
    reason (never quoting a cell) when it cannot be one."""
    for header in (ID_HEADER, CODE_HEADER, *FILL_IN):
        if header in formulas:
            raise RowRefused(f"{header} holds a formula (enter values, not formulas)")
    alert_id = _alert_id(cells.get(ID_HEADER))
    filled = [h for h in FILL_IN if text_of(cells.get(h))]
    if not filled:
        return None
    if alert_id is None:
        raise RowRefused(f"filled in without an {ID_HEADER} (keep the column as exported)")
    result_text = text_of(cells.get(RESULT_HEADER))
    if not result_text:
        raise RowRefused(f"{RESULT_HEADER} is empty (one of {RESULT_HINT})")
    result = result_code(result_text)
    if result is None:
        raise RowRefused(f"{RESULT_HEADER} is not one of {RESULT_HINT}")
    if not text_of(cells.get(DATE_HEADER)):
        raise RowRefused(f"{DATE_HEADER} is empty (the day of the visit, YYYY-MM-DD)")
    code = text_of(cells.get(CODE_HEADER)) or None
    return FilledRow(
        sheet=sheet,
        row=number,
        alert_id=alert_id,
        household_code=code,
        visited_on=cell_date(cells.get(DATE_HEADER)),
        result=result,
        needs=_needs(cells.get(NEEDS_HEADER), fields),
        note=text_of(cells.get(NOTE_HEADER)) or None,
    )


def read_rows(data: bytes, report: ImportReport, fields: FieldConfig) -> list[FilledRow]:
    """Every filled row of every sheet of a visit list; sheets without the list's header, rows
    that cannot be read and empty rows go to the report."""

    def parse(sheet: str, number: int, cells: dict[str, Any], formulas: set[str]) -> FilledRow | None:
        return parse_row(sheet, number, cells, formulas, fields)

    return read_filled(data, report, parse, (ID_HEADER, RESULT_HEADER))


def read_filled(
    data: bytes, report: ImportReport, parse: RowParser[Row], headers: tuple[str, ...]
) -> list[Row]:
    """Every row ``parse`` makes of every sheet whose header row (within the first rows) holds
    ``headers``; a sheet without it, rows refused (:class:`RowRefused`) and empty rows go to the
    report. The workbook's sheets, rows and columns are limited before they are read."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # a broken part: the parser's message may quote content
        raise UserError("the workbook cannot be read as .xlsx", hint="save the list as .xlsx") from None
    rows: list[Row] = []
    try:
        if len(workbook.sheetnames) > MAX_SHEETS:
            raise UserError(
                f"the workbook has more than {MAX_SHEETS} sheets", hint="import the list as exported"
            )
        total = 0
        for sheet in workbook.worksheets:
            name = str(sheet.title)[:31]
            report.sheets.append(name)
            with workbook._archive.open(sheet._worksheet_path) as part:
                spans = sheet_rows(part)
            if spans > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise UserError(
                    f"sheet {name} has {spans:,} rows, over {MAX_ROWS:,}", hint="import the list as exported"
                )
            sheet.reset_dimensions()
            total += spans
            if total > MAX_ROWS + MAX_SHEETS * HEADER_SEARCH_ROWS:
                raise UserError(
                    f"the workbook has more than {MAX_ROWS:,} rows", hint="import one list at a time"
                )
            rows += _read_sheet(sheet, name, report, parse, headers)
    finally:
        workbook.close()
    return rows


def _read_sheet(
    sheet: Any, name: str, report: ImportReport, parse: RowParser[Row], headers: tuple[str, ...]
) -> list[Row]:
    top = [
        [text_of(c.value) if c.data_type != "f" else "" for c in r]
        for r in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS)
    ]
    header_at = next((i for i, r in enumerate(top) if all(h in r for h in headers)), None)
    if header_at is None:
        if any(v for r in top for v in r):
            report.refused.append(RowProblem(name, 0, f"no header row with {' and '.join(headers)}"))
        return []
    positions = {h: i for i, h in reversed(list(enumerate(top[header_at]))) if h}
    out: list[Row] = []
    for number, cells in enumerate(
        sheet.iter_rows(min_row=header_at + 2, max_col=MAX_COLUMNS), start=header_at + 2
    ):
        by_header = {h: cells[i].value for h, i in positions.items() if i < len(cells)}
        formulas = {h for h, i in positions.items() if i < len(cells) and cells[i].data_type == "f"}
        if not any(text_of(v) for v in by_header.values()) and not formulas:
            continue  # a blank row
        try:
            parsed = parse(name, number, by_header, formulas)
        except RowRefused as refusal:
            report.rows += 1
            report.refused.append(RowProblem(name, number, refusal.reason))
            continue
        report.rows += 1
        if parsed is None:
            report.empty += 1
        else:
            out.append(parsed)
    return out


# --- recording ------------------------------------------------------------------------------


class Recorded(Protocol):
    """What recording one row returned (record_outcome's and record_check's results)."""

    @property
    def unchanged(self) -> bool: ...

    @property
    def supersedes(self) -> int | None: ...


class Located(Protocol):
    @property
    def sheet(self) -> str: ...

    @property
    def row(self) -> int: ...


Filled = TypeVar("Filled", bound=Located)


def run_import(
    engine: Engine,
    data: bytes,
    *,
    user_name: str,
    now: dt.datetime,
    action: str,
    read: Callable[[bytes, ImportReport], list[Filled]],
    record: Callable[[Filled], Recorded],
) -> ImportReport:
    """An import as the acting user (who must be allowed to record visits): ``read`` the filled
    rows, ``record`` each, count what happened and audit it as ``action`` with the counts and the
    file's SHA-256 (a refusal of the whole file as ``<action>_denied``)."""
    now = utc_naive(now)
    report = ImportReport(sha256=hashlib.sha256(data).hexdigest())
    target = f"file:{report.sha256[:16]}"
    with audited_refusals(engine, actor=user_name, action=f"{action}_denied", target=target, now=now):
        with transaction(engine) as session:
            acting_scope(session, user_name, "record_visit")
        check_workbook_bytes(data, "the file")
        filled = read(data, report)
    for row in filled:
        try:
            done = record(row)
        except UserError as error:
            reason = error.message
            if "already has a recorded" in reason:
                reason += " that differs (import with --corrections to replace it)"
            report.refused.append(RowProblem(row.sheet, row.row, reason))
            continue
        if done.unchanged:
            report.unchanged += 1
        else:
            report.recorded += 1
            report.corrected += int(done.supersedes is not None)
    order = {name: i for i, name in enumerate(report.sheets)}
    report.refused.sort(key=lambda p: (order.get(p.sheet, -1), p.row))
    with transaction(engine) as session:
        record_audit(
            session,
            actor=user_name,
            action=action,
            target=target,
            now=now,
            detail={k: v for k, v in report.to_dict().items() if k != "refused"}
            | {"refused": len(report.refused)},
        )
    return report


def import_visits(
    engine: Engine,
    data: bytes,
    *,
    user_name: str,
    now: dt.datetime,
    field: FieldConfig | None = None,
    corrections: bool = False,
) -> ImportReport:
    """Record every filled row of a visit list workbook (bytes, see :func:`read_upload`) as the
    acting user; audited as import_visits with the counts and the file's SHA-256."""
    fields = field or FieldConfig()
    now = utc_naive(now)

    def record(row: FilledRow) -> Recorded:
        return record_outcome(
            engine,
            alert_id=row.alert_id,
            user_name=user_name,
            visited_on=row.visited_on,
            result=row.result,
            needs=row.needs,
            note=row.note,
            now=now,
            source="import",
            field=fields,
            skip_identical=True,
            compare_routes=False,  # the sheet has no route column: routes stay the web's or CLI's
            replace_current=corrections,
            household_code=row.household_code,
        )

    def read(data: bytes, report: ImportReport) -> list[FilledRow]:
        return read_rows(data, report, fields)

    return run_import(
        engine, data, user_name=user_name, now=now, action="import_visits", read=read, record=record
    )
