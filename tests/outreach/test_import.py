"""The Excel list round trip: export → fill in with openpyxl → `visits import`; hostile files;
re-importing the same file records nothing new."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from lowinc.errors import AccessDenied, UserError
from outreach import importer
from outreach.audit import read_audit
from outreach.export import HEADERS, export_town_list, export_user_list
from outreach.importer import import_visits, read_upload
from outreach.jurisdiction import acting_scope
from outreach.outcomes import visit_outcomes
from outreach.schema import OutcomeNeed, VisitOutcome
from tests.outreach.factory import TOWN_A, household_key
from tests.outreach.fieldkit import NOW, listed

pytestmark = pytest.mark.integration
JUNE = dt.date(2024, 6, 1)
only_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _town_list(engine, tmp_path) -> Path:
    return Path(
        export_town_list(engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="李强", now=NOW).xlsx
    )


def _fill(path: Path, rows: dict[int, dict[str, object]], out: Path) -> Path:
    """Fill in the rows of the given alert ids (column by header) and save as out."""
    workbook = load_workbook(path)
    for sheet in workbook:
        header = [c.value for c in sheet[1]]
        for line in sheet.iter_rows(min_row=2):
            alert = line[header.index("预警编号")].value
            for column, value in rows.get(int(alert), {}).items():
                line[header.index(column)].value = value
    workbook.save(out)
    return out


def test_the_list_identifies_every_row_and_offers_the_five_results(engine, config, tmp_path):
    ids = listed(engine, config)
    workbook = load_workbook(_town_list(engine, tmp_path))
    sheet = workbook["东村"]
    assert [c.value for c in sheet[1]] == HEADERS
    first = {h: c.value for h, c in zip(HEADERS, sheet[2], strict=True)}
    assert (first["预警编号"], first["户编码"], first["户主姓名"]) == (ids[0], "HH0000", "张0")
    assert (first["身份证号(脱敏)"], first["地址"], first["组"]) == ("330502********0000", "幸福路0号", "1组")
    assert first["走访状态"] == "待走访" and first["核查结果"] is None
    second = {h: c.value for h, c in zip(HEADERS, sheet[3], strict=True)}
    assert second["户主姓名"] == "张1（联系人）"  # a member standing in for a head who left
    (check,) = sheet.data_validations.dataValidation
    assert check.formula1 == '"确认困难,暂无困难,已在救助,联系不上,拒绝"'


def test_a_filled_list_is_recorded_row_by_row_and_reading_it_again_records_nothing(engine, config, tmp_path):
    ids = listed(engine, config)
    filled = _fill(
        _town_list(engine, tmp_path),
        {
            ids[0]: {
                "走访日期": dt.datetime(2024, 6, 10),
                "核查结果": "确认困难",
                "需求": "医疗、照护",
                "备注": "住院",
            },
            ids[1]: {"走访日期": "2024/6/11", "核查结果": "暂无困难"},
            ids[2]: {"走访日期": "2024-06-12", "核查结果": "联系不上"},
            ids[10]: {"走访日期": "2024-06-12", "核查结果": "确认"},  # not one of the five
        },
        tmp_path / "filled.xlsx",
    )
    data = read_upload(filled)
    report = import_visits(engine, data, user_name="李强", now=NOW, field=config.field)
    assert (report.rows, report.recorded, report.empty, report.unchanged) == (5, 3, 1, 0)  # 3: blue, empty
    assert [p.line() for p in report.refused] == [
        "sheet 西村 row 2: 核查结果 is not one of 确认困难/暂无困难/已在救助/联系不上/拒绝"
    ]
    labels = visit_outcomes(engine).set_index("household_key")["hardship_confirmed"].to_dict()
    assert labels == {household_key(0): True, household_key(1): False}  # 联系不上: no label
    with Session(engine) as session:
        sources = set(session.execute(select(VisitOutcome.source)).scalars())
        needs = sorted(session.execute(select(OutcomeNeed.category)).scalars())
    assert sources == {"import"} and needs == ["care", "medical"]
    again = import_visits(engine, data, user_name="李强", now=NOW, field=config.field)
    assert (again.recorded, again.unchanged, len(again.refused)) == (0, 3, 1)
    # a list downloaded after the visits shows them, and importing it changes nothing either
    fresh = import_visits(engine, read_upload(_town_list(engine, tmp_path)), user_name="李强", now=NOW)
    assert (fresh.recorded, fresh.unchanged) == (0, 3)
    audit = read_audit(engine)
    imports = audit[audit["action"] == "import_visits"]
    assert imports["detail"].map(lambda d: (d["recorded"], d["unchanged"])).tolist() == [
        (3, 0),
        (0, 3),
        (0, 3),
    ]
    assert audit["action"].tolist().count("record_visit") == 3


def test_a_changed_row_is_refused_unless_corrections_are_asked_for(engine, config, tmp_path):
    ids = listed(engine, config)
    first = _fill(
        _town_list(engine, tmp_path),
        {ids[0]: {"走访日期": "2024-06-10", "核查结果": "暂无困难"}},
        tmp_path / "a.xlsx",
    )
    import_visits(engine, read_upload(first), user_name="李强", now=NOW)
    changed = _fill(first, {ids[0]: {"核查结果": "确认困难", "需求": "住房"}}, tmp_path / "b.xlsx")
    refused = import_visits(engine, read_upload(changed), user_name="李强", now=NOW)
    assert refused.recorded == 0 and "--corrections" in refused.refused[0].reason
    corrected = import_visits(engine, read_upload(changed), user_name="李强", now=NOW, corrections=True)
    assert (corrected.recorded, corrected.corrected) == (1, 1)
    assert visit_outcomes(engine)["hardship_confirmed"].tolist() == [True]


def test_rows_that_cannot_be_recorded_are_each_named_with_the_reason(engine, config, tmp_path):
    ids = listed(engine, config)
    filled = _fill(
        _town_list(engine, tmp_path),
        {
            ids[0]: {"走访日期": "2024-06-10", "核查结果": "=CHAR(30)"},  # a formula
            ids[1]: {
                "走访日期": "2024-06-10",
                "核查结果": "暂无困难",
                "需求": "医疗",
            },  # needs without hardship
            ids[2]: {"走访日期": "2024-07-30", "核查结果": "拒绝"},  # after today
            ids[10]: {"走访日期": "昨天", "核查结果": "拒绝"},
        },
        tmp_path / "filled.xlsx",
    )
    workbook = load_workbook(filled)
    sheet = workbook["西村"]
    sheet.append([None] * HEADERS.index("核查结果") + ["拒绝"])  # no alert number
    header = HEADERS.index("户编码")
    sheet.append([None, ids[20]] + [None] * (header - 2) + ["HH9999", None])
    sheet.cell(row=sheet.max_row, column=HEADERS.index("核查结果") + 1, value="拒绝")
    sheet.cell(row=sheet.max_row, column=HEADERS.index("走访日期") + 1, value="2024-06-10")
    workbook.save(filled)
    report = import_visits(engine, read_upload(filled), user_name="王芳", now=NOW)
    lines = [p.line() for p in report.refused]
    assert lines[0] == "sheet 东村 row 2: 核查结果 holds a formula (enter values, not formulas)"
    assert "only with confirmed hardship" in lines[1] and "outside" in lines[2]
    assert lines[3] == "sheet 西村 row 2: 走访日期 is not a date (write YYYY-MM-DD)"
    assert lines[4] == "sheet 西村 row 3: filled in without an 预警编号 (keep the column as exported)"
    assert lines[5].startswith("sheet 西村 row 4: no alert") and len(lines) == 6  # 王芳's area is 东村 only
    assert report.recorded == 0 and visit_outcomes(engine).empty


@only_sqlite
def test_hostile_files_are_refused_before_they_are_parsed(engine, config, tmp_path, monkeypatch):
    listed(engine, config)
    (tmp_path / "text.xlsx").write_text("排名,预警编号\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError, match="is not an Excel workbook"):
        read_upload(tmp_path / "text.xlsx")
    os.symlink(tmp_path / "text.xlsx", tmp_path / "link.xlsx")
    with pytest.raises(UserError, match="symbolic link"):
        read_upload(tmp_path / "link.xlsx")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (3 << 20))
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 2 << 20)
    with pytest.raises(UserError, match="unpacks to more than"):
        import_visits(engine, bomb.getvalue(), user_name="李强", now=NOW)
    tall = Workbook()
    tall.active.append(["预警编号", "核查结果"])
    tall.active.cell(row=1_000_000, column=1, value=1)  # one cell far down: a million rows to openpyxl
    buffer = io.BytesIO()
    tall.save(buffer)
    with pytest.raises(UserError, match="over 20,000"):
        import_visits(engine, buffer.getvalue(), user_name="李强", now=NOW)
    other = Workbook()
    other.active.append(["姓名", "电话"])
    other.active.append(["x", "y"])
    buffer = io.BytesIO()
    other.save(buffer)
    report = import_visits(engine, buffer.getvalue(), user_name="李强", now=NOW)
    assert [p.line() for p in report.refused] == ["sheet Sheet: no header row with 预警编号 and 核查结果"]
    with pytest.raises(AccessDenied):
        import_visits(engine, buffer.getvalue(), user_name="数据组", now=NOW)
    assert read_audit(engine)["action"].tolist().count("import_visits_denied") == 3


def test_a_users_own_list_downloads_with_the_visits_filters_and_is_audited(engine, config):
    ids = listed(engine, config)
    with Session(engine) as session:
        worker = acting_scope(session, "王芳", "export_list")
        officer = acting_scope(session, "李强", "export_list")
    own = export_user_list(engine, worker, None, now=NOW)
    assert own.as_of == "2024-06-01" and own.rows == 3 and own.filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(own.content)).active
    alert_col = HEADERS.index("预警编号")
    assert [r[alert_col].value for r in sheet.iter_rows(min_row=2)] == [ids[0], ids[1], ids[2]]  # by due date
    red = export_user_list(engine, officer, JUNE, now=NOW, tiers=("red",))
    assert red.rows == 2  # 东村 and 西村's red households (town B is not his)
    with pytest.raises(UserError):
        export_user_list(engine, officer, JUNE, now=NOW, tiers=("purple",))
    with pytest.raises(UserError, match="no such village"):
        export_user_list(engine, officer, JUNE, now=NOW, village="330502002009")
    actions = read_audit(engine)["action"].tolist()
    assert actions.count("export_list") == 2 and actions.count("export_denied") == 2
