"""outreach.check_sheets: the 核查/渐退 list as an offline workbook and the filled workbook read
back — the user's rows only, named; a filled row recorded once through record_check (re-reading
records nothing), a changed row only with corrections, and hostile or broken rows refused with
their sheet, row and reason."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from lowinc.errors import AccessDenied
from lowinc.home import HomeLayout
from outreach.audit import read_audit
from outreach.check_records import check_history
from outreach.check_sheets import HEADERS, export_check_list, export_check_list_as, import_checks
from outreach.contacts import household_code
from outreach.db import transaction
from outreach.importer import ImportReport
from outreach.jurisdiction import acting_scope
from tests.outreach.factory import household_key
from tests.outreach.hukou_home import write_home
from tests.outreach.lists_home import write_lists

NOW = dt.datetime(2024, 6, 3, 9, 0, 0)
MONTH = dt.date(2024, 6, 1)


@pytest.fixture
def layout(tmp_path: Path) -> HomeLayout:
    home = write_home(tmp_path / "home")
    write_lists(home)
    return home


def _export(engine: Engine, layout: HomeLayout, user: str = "王芳", kind: str = "reverify") -> bytes:
    with transaction(engine) as session:
        scope = acting_scope(session, user, "export_list")
    return export_check_list(engine, layout, scope, kind=kind, as_of=MONTH, now=NOW).content


def _rows(content: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def _filled(content: bytes, fills: dict[str, dict[str, object]]) -> bytes:
    """The workbook with cells set by 户编码 -> header -> value."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    column = {h: i + 1 for i, h in enumerate(HEADERS)}
    for r in range(2, sheet.max_row + 1):
        code = sheet.cell(row=r, column=column["户编码"]).value
        for header, value in fills.get(str(code), {}).items():
            sheet.cell(row=r, column=column[header]).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _import(engine: Engine, layout: HomeLayout, data: bytes, **kw: object) -> ImportReport:
    return import_checks(engine, layout, data, user_name="王芳", now=NOW, **kw)  # type: ignore[arg-type]


def _code(n: int) -> str:
    return household_code(household_key(n))


def test_the_workbook_holds_the_users_rows_named_in_the_lists_order(
    engine: Engine, layout: HomeLayout
) -> None:
    content = _export(engine, layout)
    rows = _rows(content)
    # 王芳 works in A1: reverify households 0 (rank 1) and 1 (rank 2); not 10 (A2) nor 20 (town B)
    assert [r["户编码"] for r in rows] == [_code(0), _code(1)]
    assert all(r["户主姓名"] and "*" in str(r["身份证号(脱敏)"]) for r in rows)
    assert {r["名单"] for r in rows} == {"核查"} and {r["名单月份"] for r in rows} == {"2024-06-01"}
    assert all(r["核查日期"] is None and r["核查结果"] is None for r in rows)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    (drop_down,) = sheet.data_validations.dataValidation
    assert "仍符合条件" in str(drop_down.formula1) and "收入稳定" not in str(drop_down.formula1)
    county = openpyxl.load_workbook(io.BytesIO(_export(engine, layout, "赵敏")))  # one sheet per village
    assert len(county.sheetnames) == 3 and sum(ws.max_row - 1 for ws in county.worksheets) == 4
    phase_out = _rows(_export(engine, layout, kind="phase_out"))
    assert [r["户编码"] for r in phase_out] == [_code(2)] and phase_out[0]["名单"] == "渐退"
    audit = read_audit(engine)
    exports = audit[audit["action"] == "export_check_list"]
    assert len(exports) == 3 and set(exports["actor"]) == {"王芳", "赵敏"}
    names = {str(r["户主姓名"]) for r in rows}
    assert not any(name in str(detail) for name in names for detail in exports["detail"])
    with pytest.raises(AccessDenied):
        export_check_list_as(engine, layout, "数据组", kind="reverify", as_of=MONTH, now=NOW)
    assert (read_audit(engine)["action"] == "export_denied").sum() == 1


def test_a_filled_row_is_recorded_once_and_a_changed_one_only_as_a_correction(
    engine: Engine, layout: HomeLayout
) -> None:
    fills = {
        _code(0): {"核查日期": "2024-06-02", "核查结果": "情况有变化，提请复核认定", "备注": "新购车辆"},
        _code(1): {"核查日期": dt.datetime(2024, 6, 2)},  # a date without a result
    }
    data = _filled(_export(engine, layout), fills)
    first = _import(engine, layout, data)
    assert (first.rows, first.recorded, first.empty, len(first.refused)) == (2, 1, 0, 1)
    assert first.refused[0].row == 3 and "核查结果 is empty" in first.refused[0].reason
    again = _import(engine, layout, data)
    assert (again.recorded, again.unchanged) == (0, 1)
    # a list downloaded after the visit shows the record and reads back unchanged
    fresh = _rows(_export(engine, layout))
    assert (fresh[0]["核查日期"], fresh[0]["核查结果"], fresh[0]["备注"]) == (
        "2024-06-02",
        "情况有变化，提请复核认定",
        "新购车辆",
    )
    reread = _import(engine, layout, _export(engine, layout))
    assert (reread.recorded, reread.unchanged, reread.empty, reread.refused) == (0, 1, 1, [])
    changed = _filled(_export(engine, layout), {_code(0): {"核查结果": "仍符合条件"}})
    refused = _import(engine, layout, changed)
    assert refused.recorded == 0 and "import with --corrections" in refused.refused[0].reason
    fixed = _import(engine, layout, changed, corrections=True)
    assert (fixed.recorded, fixed.corrected) == (1, 1)
    with transaction(engine) as session:
        history = check_history(session, household_key(0), MONTH, "reverify")
    assert [(r.result, r.current, r.note) for r in history] == [
        ("review", False, "新购车辆"),
        ("still_qualifies", True, "新购车辆"),
    ]
    audit = read_audit(engine)
    assert (audit["action"] == "import_checks").sum() == 5 and (audit["action"] == "correct_check").sum() == 1


def test_hostile_and_broken_rows_are_refused_with_their_row_and_reason(
    engine: Engine, layout: HomeLayout
) -> None:
    content = _export(engine, layout)
    fills = {
        _code(0): {"核查日期": "2024-06-02", "核查结果": '=HYPERLINK("http://x","仍符合条件")'},
        _code(1): {"户编码": _code(20), "核查日期": "2024-06-02", "核查结果": "仍符合条件"},  # town B's
    }
    report = _import(engine, layout, _filled(content, fills))
    reasons = {p.row: p.reason for p in report.refused}
    assert report.recorded == 0 and set(reasons) == {2, 3}
    assert "holds a formula" in reasons[2]
    assert f"no household {_code(20)} on the reverify list of 2024-06-01 in your area" == reasons[3]
    wrong = {
        _code(0): {"名单": "渐退", "核查日期": "2024-06-02", "核查结果": "仍符合条件"},  # a reverify result
        _code(1): {"名单月份": "2024-06-15", "核查日期": "2024-06-02", "核查结果": "仍符合条件"},
    }
    report = _import(engine, layout, _filled(content, wrong))
    reasons = {p.row: p.reason for p in report.refused}
    assert report.recorded == 0 and "核查结果 is not one of 收入稳定" in reasons[2]
    assert "名单月份 is not the 1st of a month" in reasons[3]
    late = {_code(0): {"核查日期": "2024-07-01", "核查结果": "仍符合条件"}}  # after today (NOW)
    report = _import(engine, layout, _filled(content, late))
    assert report.recorded == 0 and "outside 2024-06-01" in report.refused[0].reason
    with transaction(engine) as session:
        assert check_history(session, household_key(0), MONTH, "reverify") == ()
        assert check_history(session, household_key(20), MONTH, "reverify") == ()
