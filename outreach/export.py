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
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from lowinc.divisions import contains, validate_code
from lowinc.errors import AccessDenied
from lowinc.home import HomeLayout
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.jurisdiction import acting_user, audited_refusals, covers
from outreach.messages import TIER_ZH
from outreach.privacy import mask_ids
from outreach.schema import Alert, User

STATUS_ZH = {"notify": "新预警", "cooldown": "冷却期内（已预警）", "watch": "观察"}
TIER_FILL = {"red": "FFC7CE", "orange": "FFD8A8", "yellow": "FFF2A8", "blue": "DDEBF7"}
# header, width, wrap
COLUMNS: list[tuple[str, int, bool]] = [
    ("排名", 6, False),
    ("户主姓名", 10, False),
    ("身份证号(脱敏)", 21, False),
    ("村/社区", 16, False),
    ("预警等级", 9, False),
    ("风险", 8, False),
    ("硬性触发", 22, True),
    ("主要原因", 60, True),
    ("建议措施", 14, True),
    ("截止日期", 12, False),
    ("状态", 16, False),
    ("上次预警", 16, False),
    ("模型版本", 14, False),
]
HEADERS = [c[0] for c in COLUMNS]
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# a cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP
# CSV injection: = + - @ tab and carriage return; ASVS 1.2.10 adds the null character)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


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


def _read_list(engine: Engine, town_code: str, as_of: dt.date) -> pd.DataFrame:
    previous = aliased(Alert)
    query = (
        select(
            Alert.household_key,
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
        )
        .outerjoin(previous, previous.id == Alert.previous_alert_id)
        .where(Alert.town_code == town_code, Alert.as_of == as_of)
        .order_by(Alert.village_code, Alert.rank_in_village)
    )
    with engine.connect() as connection:
        result = connection.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def format_list(alerts: pd.DataFrame, heads: pd.DataFrame | None) -> pd.DataFrame:
    """The printed columns (Chinese headers), joined with the heads' names and masked IDs."""
    frame = alerts
    if heads is not None and len(heads):
        frame = frame.merge(
            heads[["household_key", "head_id_no", "head_name"]], on="household_key", how="left"
        )
    else:
        frame = frame.assign(head_id_no=None, head_name=None)
    previous = [
        "" if pd.isna(d) else f"{d:%Y-%m} {TIER_ZH.get(t, t)}"
        for d, t in zip(frame["previous_as_of"], frame["previous_tier"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "排名": frame["rank_in_village"].astype(int),
            "户主姓名": frame["head_name"].fillna("").astype(str),
            "身份证号(脱敏)": mask_ids(frame["head_id_no"]),
            "村/社区": frame["village_name"],
            "预警等级": frame["tier"].map(TIER_ZH),
            "风险": frame["risk"].round(3),
            "硬性触发": frame["hard_triggers"],
            "主要原因": frame["reasons_zh"].str.replace("；", "；\n", regex=False),
            "建议措施": frame["action_zh"],
            "截止日期": pd.to_datetime(frame["due_date"]).dt.strftime("%Y-%m-%d"),
            "状态": frame["status"].map(STATUS_ZH),
            "上次预警": previous,
            "模型版本": frame["model_version"],
        }
    )
    out["_village_code"] = frame["village_code"].to_numpy()
    out["_tier"] = frame["tier"].to_numpy()
    return out


def _sheet_name(name: str, used: set[str]) -> str:
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


def _as_text(sheet: Worksheet) -> None:
    """Type every string cell as text: openpyxl makes a string starting with '=' a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def write_workbook(printed: pd.DataFrame, path: Path, title: str) -> int:
    """One sheet per village: frozen header, widths, wrapped reasons, tier colours (an empty list:
    one sheet with the headers). Returns the number of sheets."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    header_font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for _code, village in printed.groupby("_village_code", sort=True):
        sheet = workbook.create_sheet(_sheet_name(str(village["村/社区"].iloc[0]), used))
        sheet.append(HEADERS)
        for cell in sheet[1]:
            cell.font = header_font
        for record in village[HEADERS].itertuples(index=False):
            sheet.append(list(record))
        _as_text(sheet)
        for i, (_header, width, wraps) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.alignment = wrap if wraps else top
        tier_col = HEADERS.index("预警等级") + 1
        for row_index, tier in enumerate(village["_tier"], start=2):
            sheet.cell(row=row_index, column=tier_col).fill = PatternFill("solid", fgColor=TIER_FILL[tier])
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        sheet.print_title_rows = "1:1"
        sheet.oddHeader.center.text = title
    if not workbook.sheetnames:
        workbook.create_sheet("无").append(HEADERS)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return len(workbook.sheetnames)


def _entitlement(session: Session, user_name: str, town_code: str) -> tuple[User, bool]:
    """The acting user and whether they see the whole town (True) or only their own village
    in it (False); AccessDenied when neither."""
    user = acting_user(session, user_name, "export_list")
    if covers(user.level, user.code, town_code):
        return user, True
    if user.level == "village" and user.code and contains(town_code, user.code):
        return user, False
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
            user, town_wide = _entitlement(session, user_name, town_code)
    alerts = _read_list(engine, town_code, as_of)
    if not town_wide:
        alerts = alerts[alerts["village_code"] == user.code]
    printed = format_list(alerts, heads)
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
