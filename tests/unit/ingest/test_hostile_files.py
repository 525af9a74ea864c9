"""Hostile deliveries (issue 12): each bad file is rejected alone, by name and a reason that
quotes nothing delivered; nothing outside raw/ is read; limits are checked before parsing;
formulas are quarantined."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ingest import delivery, store
from ingest.readers import FileRejected, _read_sheet, read_delivered
from lowinc.home import HomeLayout
from lowinc.sources import DEFAULT_LIMITS, load_source
from pipelines.ingest.workers import ingest_with_workers

from .conftest import KEY
from .factory import HUKOU_HEADER, hukou_rows, write_csv
from .hostile import (
    DISABILITY_HEADER,
    EMPLOYMENT_HEADER,
    IDS,
    NAMES,
    SECRETS,
    contributions,
    disability_row,
    disability_workbook,
    employment_rows,
    payments,
    rewrite_sheet,
    zip_bomb_workbook,
)

MONTH = "2023-03"


def _file(report, name):
    return next(f for f in report.files if f.file == name)


def _texts(paths, report) -> str:
    """Everything a reader of the month's outcome sees: the JSON and Markdown reports and
    the Markdown the Prefect artifact publishes (the flow publishes report.to_markdown())."""
    json_text = (paths.ingest_reports / f"{report.month}.json").read_text(encoding="utf-8")
    md_text = (paths.ingest_reports / f"{report.month}.md").read_text(encoding="utf-8")
    return "\n".join([json_text, md_text, report.to_markdown(), report.to_json()])


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"identifying values {leaked} in: {text[:2000]}"


# --- point 1: one bad file stops only itself, with 1 and 2 workers alike --------------------


def _employment(paths) -> None:
    month = paths.raw / "employment" / MONTH
    month.mkdir(parents=True)
    (month / "就业失业登记.csv").write_bytes(b"")  # 0 bytes
    contributions(month / "社保缴费.parquet", IDS)
    payments(month / "养老金发放.parquet", IDS[:2])


def test_an_empty_csv_is_rejected_alone_and_the_sources_parquet_files_are_ingested(tmp_path, sources):
    reports = {}
    for workers in (1, 2):
        paths = HomeLayout(tmp_path / f"home{workers}")
        _employment(paths)
        (report,) = ingest_with_workers([MONTH], paths, {"employment": sources["employment"]}, KEY, workers)
        got = {f.file: (f.status, f.rows_in, f.accepted) for f in report.files}
        assert got == {
            "就业失业登记.csv": ("rejected", 0, 0),
            "社保缴费.parquet": ("ingested", 3, 3),
            "养老金发放.parquet": ("ingested", 2, 2),
        }
        bad = _file(report, "就业失业登记.csv")
        assert bad.table == "employment_registrations"
        assert bad.message.startswith("empty_file: the file is empty (0 bytes)")
        assert "*" not in {f.file for f in report.files} | {f.table for f in report.files}
        for f in report.files:
            assert f.rows_in == f.accepted + f.quarantined + f.duplicates
        assert len(store.read_partitions(paths.canonical, "pension_contributions", [MONTH])) == 3
        reports[workers] = delivery.read_report(paths, MONTH).to_dict()
    assert reports[1] == reports[2]


def test_an_unexpected_error_is_reported_by_its_type_only():
    exc = ValueError(f"bad row: {IDS[0]},{NAMES[0]}")  # what a parser's message may hold
    rep = delivery.file_failed("employment", "employment_registrations", "就业失业登记.csv", exc)
    assert rep.status == "rejected" and "ValueError" in rep.message
    _assert_no_secret(rep.message)


def test_a_table_that_fails_as_a_whole_is_reported_by_its_files_not_as_a_star(paths, sources):
    _employment(paths)
    spec = sources["employment"].files[1]
    exc = RuntimeError(f"worker died reading {IDS[0]}")
    reps = delivery.table_failed("employment", spec, MONTH, paths.raw, exc)
    assert [(r.table, r.file, r.status) for r in reps] == [
        ("pension_contributions", "社保缴费.parquet", "rejected")
    ]
    assert "RuntimeError" in reps[0].message
    _assert_no_secret(reps[0].message)


# --- point 2: no delivered value in any report, artifact, log or error message -------------


def _headerless_csv(paths) -> str:
    rows = [
        [i, n, "男", "19800101", "000000001", "户主", "330502001001", "正常"]
        for i, n in zip(IDS, NAMES, strict=True)
    ]
    path = paths.raw / "hukou" / MONTH / "户籍人口_全量.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(",".join(r) for r in rows) + "\n").encode("gb18030"))
    return path.name


def _headerless_xlsx(paths) -> str:
    rows = [disability_row(i, n) for i, n in zip(IDS, NAMES, strict=True)]
    path = disability_workbook(paths.raw / "disability" / MONTH / "残疾人证信息.xlsx", rows, header=False)
    return path.name


def _headerless_parquet(paths) -> str:
    frame = pd.DataFrame(
        [[IDS[1], 202303, NAMES[1], 4500.0, "正常应缴"]], columns=[IDS[0], "费款所属期", NAMES[0], "x", "y"]
    )
    path = paths.raw / "employment" / MONTH / "社保缴费.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path.name


def _ragged_csv(paths) -> str:
    rows = [*employment_rows(), [IDS[0], NAMES[0], "失业登记"]]  # a row with too few fields
    return write_csv(
        paths.raw / "employment" / MONTH / "就业失业登记.csv", EMPLOYMENT_HEADER, rows, "utf-8"
    ).name


def _data_as_extra_header(paths) -> str:
    header = [*EMPLOYMENT_HEADER, IDS[2], NAMES[2]]  # the header row shifted onto data
    rows = [[*r, "a", "b"] for r in employment_rows()]
    return write_csv(paths.raw / "employment" / MONTH / "就业失业登记.csv", header, rows, "utf-8").name


def _sheet_named_after_a_person(paths) -> str:
    path = disability_workbook(paths.raw / "disability" / MONTH / "残疾人证信息.xlsx", [])
    wb = openpyxl.load_workbook(path)
    wb.active.title = NAMES[0]
    wb.save(path)
    return path.name


@pytest.mark.parametrize(
    ("make", "source", "status", "says"),
    [
        (_headerless_csv, "hukou", "rejected", "8 unrecognised (columns 1-8)"),
        (_headerless_xlsx, "disability", "rejected", "no header row with known column names"),
        (_headerless_parquet, "employment", "rejected", "known headers 费款所属期; 4 unrecognised"),
        (_ragged_csv, "employment", "rejected", "1 rows do not have the header's 6 fields"),
        (_data_as_extra_header, "employment", "ingested", ""),
        (_sheet_named_after_a_person, "disability", "rejected", "the workbook has 1 other sheet"),
    ],
)
def test_no_report_log_or_message_quotes_a_delivered_value(
    paths, sources, runner, caplog, capfd, make, source, status, says
):
    caplog.set_level(logging.DEBUG)
    name = make(paths)
    report = delivery.ingest_month(MONTH, paths, {source: sources[source]}, KEY, runner)
    f = _file(report, name)
    assert (f.status, says in f.message) == (status, True), f.message
    if f.status == "ingested":
        assert f.extra_columns == ["column 7 (unrecognised header)", "column 8 (unrecognised header)"]
    out, err = capfd.readouterr()
    _assert_no_secret(_texts(paths, report), caplog.text, out, err)


def test_a_missing_required_column_names_only_known_headers(tmp_path, sources):
    spec = sources["employment"].files[0]
    header = [IDS[0], "姓名", "登记日期", NAMES[1]]
    path = write_csv(tmp_path / "就业失业登记.csv", header, [["1", "2", "3", "4"]], "utf-8")
    with pytest.raises(FileRejected) as exc:
        read_delivered(path, spec)
    assert "found 4 columns; known headers 姓名, 登记日期; 2 unrecognised (columns 1, 4)" in exc.value.reason
    _assert_no_secret(str(exc.value))


# --- point 3: symbolic links are refused, never followed -----------------------------------


def _outside(tmp_path) -> Path:
    """A 'system file' outside the home, shaped like a delivery, with a person in it."""
    target = tmp_path / "etc" / "passwd.csv"
    write_csv(target, HUKOU_HEADER, [[IDS[0], NAMES[0], *hukou_rows()[0][2:]]], "gb18030")
    return target


def test_a_symlinked_file_is_rejected_and_not_read(paths, sources, runner, tmp_path):
    month = paths.raw / "hukou" / MONTH
    month.mkdir(parents=True)
    (month / "户籍人口_全量.csv").symlink_to(_outside(tmp_path))
    report = delivery.ingest_month(MONTH, paths, {"hukou": sources["hukou"]}, KEY, runner)
    f = _file(report, "户籍人口_全量.csv")
    assert f.status == "rejected" and f.rows_in == 0
    assert f.message == "symbolic_link: a symbolic link: not followed, nothing read"
    assert store.read_partitions(paths.canonical, "hukou_base", [MONTH]).empty
    _assert_no_secret(_texts(paths, report))


@pytest.mark.parametrize("level", ["source", "month"])
def test_a_symlinked_source_or_month_folder_is_rejected(paths, sources, runner, tmp_path, level):
    outside = _outside(tmp_path).parent  # a folder holding 户籍人口_全量.csv-like files
    (outside / "户籍人口_全量.csv").write_bytes((outside / "passwd.csv").read_bytes())
    if level == "month":
        (paths.raw / "hukou").mkdir(parents=True)
        (paths.raw / "hukou" / MONTH).symlink_to(outside)
    else:
        (outside.parent / "src" / MONTH).mkdir(parents=True)
        (outside.parent / "src" / MONTH / "户籍人口_全量.csv").write_bytes(
            (outside / "passwd.csv").read_bytes()
        )
        paths.raw.mkdir(parents=True)
        (paths.raw / "hukou").symlink_to(outside.parent / "src")
    for workers in (1, 2):
        (report,) = ingest_with_workers([MONTH], paths, {"hukou": sources["hukou"]}, KEY, workers)
        f = report.files[0]
        assert f.status == "rejected" and f"the {level} folder" in f.message and "symbolic link" in f.message
        assert {x.status for x in report.files} == {"rejected"}
        _assert_no_secret(_texts(paths, report))
    assert not store.read_partitions(paths.canonical, "hukou_base", [MONTH]).shape[0]


# --- point 5: limits checked before parsing -----------------------------------------------


def test_source_limits_apply_to_every_file_under_the_files_own(tmp_path):
    text = (Path(__file__).parents[3] / "configs" / "sources" / "employment.yaml").read_text(encoding="utf-8")
    text = text.replace("department: 人社\n", "department: 人社\nlimits: {max_rows: 10, max_columns: 20}\n")
    text = text.replace("    format: parquet\n", "    format: parquet\n    limits: {max_rows: 5}\n", 1)
    path = tmp_path / "employment.yaml"
    path.write_text(text, encoding="utf-8")
    files = {f.table: f for f in load_source(path).files}
    assert files["employment_registrations"].limit("max_rows") == 10
    assert files["pension_contributions"].limit("max_rows") == 5
    assert files["pension_contributions"].limit("max_columns") == 20
    assert (
        files["pension_payments"].limit("max_uncompressed_bytes")
        == DEFAULT_LIMITS["parquet"].max_uncompressed_bytes
    )


def _limited(spec, **limits):
    return spec.model_copy(update={"limits": spec.limits.model_copy(update=limits)})


def test_csv_over_its_size_or_rows_is_rejected_naming_the_limit(tmp_path, sources):
    spec = sources["employment"].files[0]
    path = write_csv(tmp_path / "就业失业登记.csv", EMPLOYMENT_HEADER, employment_rows(), "utf-8")
    with pytest.raises(FileRejected, match=r"rows \(lines\) 3 is over the limit of 2 \(limits.max_rows"):
        read_delivered(path, _limited(spec, max_rows=2))
    with pytest.raises(FileRejected, match=r"limits\.max_uncompressed_bytes") as exc:
        read_delivered(path, _limited(spec, max_uncompressed_bytes=100))
    assert exc.value.kind == "over_limit"
    assert len(read_delivered(path, _limited(spec, max_rows=3)).frame) == 3


def test_parquet_over_its_rows_is_rejected_from_the_metadata(tmp_path, sources):
    spec = sources["employment"].files[1]
    path = contributions(tmp_path / "社保缴费.parquet", IDS)
    with pytest.raises(FileRejected, match="rows 3 is over the limit of 2"):
        read_delivered(path, _limited(spec, max_rows=2))
    with pytest.raises(FileRejected, match="unpacked size"):
        read_delivered(path, _limited(spec, max_uncompressed_bytes=10))


def _far_cell(data: bytes) -> bytes:
    cell = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return data.replace(b"</sheetData>", cell + b"</sheetData>")


def _empty_rows(data: bytes) -> bytes:
    rows = b"".join(b'<row r="%d"/>' % k for k in range(4, 1_048_577))  # down to Excel's last row
    return data.replace(b"</sheetData>", rows + b"</sheetData>")


@pytest.mark.parametrize("change", [_far_cell, _empty_rows])
def test_a_sheet_reaching_row_1048576_is_rejected_in_seconds(tmp_path, sources, change):
    spec = sources["disability"].files[0]
    path = disability_workbook(tmp_path / "残疾人证信息.xlsx", [disability_row(IDS[0], NAMES[0])])
    rewrite_sheet(path, change)
    start = time.perf_counter()
    with pytest.raises(FileRejected) as exc:
        read_delivered(path, spec)
    assert time.perf_counter() - start < 10
    assert exc.value.kind == "over_limit" and "limits.max_rows" in exc.value.reason
    assert "1,048,576" in exc.value.reason


def test_an_excel_sheet_is_read_no_further_than_its_row_limit(tmp_path, sources):
    """The row count of the XML is a first check; reading stops at the limit whatever it said."""
    spec = _limited(sources["disability"].files[0], max_rows=4)
    rows = [disability_row(IDS[0], NAMES[0])] * 2
    path = disability_workbook(tmp_path / "残疾人证信息.xlsx", rows)
    assert len(read_delivered(path, spec).frame) == 2
    path = disability_workbook(tmp_path / "残疾人证信息.xlsx", rows * 3)
    with pytest.raises(FileRejected, match=r"limits\.max_rows"):
        read_delivered(path, spec)


def test_reading_a_sheet_stops_at_the_row_limit_whatever_its_xml_said(tmp_path, sources):
    """Past the XML scan (which a malformed part could fool), the streaming read still
    stops at the limit: it never holds more than ``max_rows`` rows."""
    spec = _limited(sources["disability"].files[0], max_rows=4)
    path = disability_workbook(tmp_path / "残疾人证信息.xlsx", [disability_row(IDS[0], NAMES[0])] * 6)
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = wb["残疾人证"]
        ws.reset_dimensions()
        with pytest.raises(FileRejected, match="rows of the sheet 5 is over the limit of 4"):
            _read_sheet(path, spec, ws)
    finally:
        wb.close()


def test_a_very_wide_excel_header_is_rejected(tmp_path, sources):
    spec = _limited(sources["disability"].files[0], max_columns=12)
    path = disability_workbook(tmp_path / "残疾人证信息.xlsx", [], header=False)
    wb = openpyxl.load_workbook(path)
    wb.active.append([*DISABILITY_HEADER, *[f"x{i}" for i in range(10)]])
    wb.save(path)
    with pytest.raises(FileRejected, match="columns in the header row 13 is over the limit of 12"):
        read_delivered(path, spec)


ZIP_BOMB_MONTH = """
import json, sys
from pathlib import Path
from lowinc.sources import load_sources
from lowinc.settings import DEFAULT_CONFIG_DIR
from ingest import delivery
from lowinc.home import HomeLayout
paths = HomeLayout(Path(sys.argv[1]))
sources = {"disability": load_sources(DEFAULT_CONFIG_DIR / "sources")["disability"]}
report = delivery.ingest_month("2023-03", paths, sources, b"k")
# VmHWM: this process's own peak (ru_maxrss would carry the forking parent's across exec)
status = Path("/proc/self/status").read_text().splitlines()
peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
print(json.dumps({"peak": peak, "files": [[f.file, f.status, f.message] for f in report.files]}))
"""


def test_a_month_with_a_zip_bomb_workbook_is_ingested_in_under_1_gb(paths):
    """1.6 MB on disk, 1 GiB unpacked: rejected from the zip's declared sizes, never parsed."""
    month = paths.raw / "disability" / MONTH
    bomb = zip_bomb_workbook(month / "残疾人证信息.xlsx")
    disability_workbook(month / "残疾人证信息(1).xlsx", [disability_row(IDS[1], NAMES[1])])
    assert bomb.stat().st_size < 4 << 20
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[3])}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ZIP_BOMB_MONTH), str(paths.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["peak"] < 1 << 30, got["peak"]
    files = {name: (status, message) for name, status, message in got["files"]}
    status, message = files["残疾人证信息.xlsx"]
    assert status == "rejected" and "limits.max_uncompressed_bytes" in message
    assert files["残疾人证信息(1).xlsx"][0] == "ingested"


# --- point 6: formulas are quarantined -----------------------------------------------------


def _with_cached_value(data: bytes) -> bytes:
    """openpyxl writes no cached values: give the third row's formula one, as Excel would."""
    head, tail = data.split(b'<c r="B5"><f>')
    formula, rest = tail.split(b"</f><v />", 1)
    cached = b'<c r="B5" t="str"><f>' + formula + b"</f><v>" + NAMES[2].encode() + b"</v>"
    return head + cached + rest


def test_formula_cells_are_quarantined_with_or_without_a_cached_value(paths, sources, runner):
    rows = [
        disability_row(IDS[0], NAMES[0]),
        disability_row(IDS[1], f'=HYPERLINK("http://example.org/{IDS[1]}","{NAMES[1]}")'),
        disability_row(IDS[2], '=CONCATENATE("赵","丽华")'),
    ]
    path = disability_workbook(paths.raw / "disability" / MONTH / "残疾人证信息.xlsx", rows)
    rewrite_sheet(path, _with_cached_value)
    report = delivery.ingest_month(MONTH, paths, {"disability": sources["disability"]}, KEY, runner)
    f = _file(report, "残疾人证信息.xlsx")
    assert (f.rows_in, f.accepted, f.quarantined) == (3, 1, 2)
    assert f.quarantined_by_reason == {"formula_in_data": 2}
    q = store.read_partitions(paths.quarantine, "disability_certificates", [MONTH])
    assert q["row_number"].tolist() == [2, 3] and set(q["column"]) == {"姓名"}
    assert all("formula in data" in r for r in q["reason"])
    assert q["value"].iloc[0].startswith("=HYPERLINK(")
    identity = store.read_partitions(paths.identity, "disability_certificates", [MONTH])
    assert identity["name"].tolist() == [NAMES[0]]  # no empty name slipped through
    _assert_no_secret(_texts(paths, report))
