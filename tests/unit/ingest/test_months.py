"""Delivery months: one strict check for every --month argument and every month folder."""

from __future__ import annotations

import json

import pytest

from ingest import delivery
from ingest.report import month_report_from_dict
from lowinc.errors import UserError
from lowinc.months import check_month, month_problem
from pipelines.cli import main
from pipelines.ingest.workers import ingest_with_workers

from .conftest import KEY
from .factory import HUKOU_HEADER, MEDICAL_HEADER, hukou_rows, make_id, medical_row, write_csv

MONTH = "2023-03"
NOT_MONTHS = {
    "2022-13": "month 13 is not 01-12",
    "2022-8": "not a month folder (YYYY-MM)",
    "backup": "not a month folder (YYYY-MM)",
}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2023-03", None),
        ("1990-01", None),
        ("2022-12", None),
        ("2022-13", "month 13 is not 01-12"),
        ("2022-00", "month 00 is not 01-12"),
        ("2022-8", "not a month folder (YYYY-MM)"),
        ("202203", "not a month folder (YYYY-MM)"),
        ("foo", "not a month folder (YYYY-MM)"),
        ("../../../x", "not a month folder (YYYY-MM)"),
        ("2023-03/../../x", "not a month folder (YYYY-MM)"),
        ("2023-03\n", "not a month folder (YYYY-MM)"),
        ("１９９０-01", "not a month folder (YYYY-MM)"),  # full-width digits are \d for re
        ("1850-01", "year 1850 is outside 1990-2099"),
        ("2150-01", "year 2150 is outside 1990-2099"),
    ],
)
def test_a_month_is_yyyy_mm_with_a_real_month_and_year(text, problem):
    assert month_problem(text) == problem


def test_a_bad_month_argument_is_a_one_line_user_error_with_a_hint():
    with pytest.raises(UserError) as caught:
        check_month("../../../x")
    assert caught.value.line() == (
        "--month ../../../x: not a month (YYYY-MM) (run: lowinc ingest --month YYYY-MM, e.g. --month 2023-03)"
    )
    with pytest.raises(UserError, match=r"'2023-03\\n'"):  # shown escaped: still one line
        check_month("2023-03\n")


def _deliver(paths, month: str = MONTH) -> None:
    write_csv(paths.raw / "hukou" / month / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    rows = [medical_row("S1", make_id(seq="011"))]
    write_csv(paths.raw / "medical" / month / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")


def _misnamed_folders(paths) -> None:
    """What departments really deliver: a month 13, a month without its zero, a backup."""
    _deliver(paths, "2022-13")
    _deliver(paths, "2022-8")
    backup = paths.raw / "medical" / "backup"
    backup.mkdir(parents=True)
    delivered = paths.raw / "medical" / MONTH / "医保结算明细.csv"
    (backup / delivered.name).write_bytes(delivered.read_bytes())


def test_folders_that_are_not_months_are_not_ingested_but_listed_in_the_report(paths, sources):
    _deliver(paths)
    _misnamed_folders(paths)
    chosen = {k: sources[k] for k in ("hukou", "medical")}
    months = delivery.delivered_months(paths.raw)
    assert months == [MONTH]  # 2022-13 used to fail every source with a DateParseError
    (report,) = ingest_with_workers(delivery.months_to_ingest(months, paths), paths, chosen, KEY)
    assert not [f for f in report.files if f.status == "rejected"]
    assert {f.file: f.accepted for f in report.files if f.status == "ingested"} == {
        "户籍人口_全量.csv": 3,  # 2023-03 is the first month: 2022-13 and 2022-8 are no months
        "医保结算明细.csv": 1,
    }
    listed = {(f.source, f.folder): f.reason for f in report.ignored_folders}
    assert listed == {("medical", k): v for k, v in NOT_MONTHS.items()} | {
        ("hukou", "2022-13"): "month 13 is not 01-12",
        ("hukou", "2022-8"): "not a month folder (YYYY-MM)",
    }
    saved = json.loads((paths.ingest_reports / f"{MONTH}.json").read_text(encoding="utf-8"))
    assert {"source": "medical", "folder": "backup", "reason": "not a month folder (YYYY-MM)"} in saved[
        "ignored_folders"
    ]
    assert "- medical/2022-13: month 13 is not 01-12" in report.to_markdown()
    assert month_report_from_dict(saved) == report
    assert not (paths.canonical / "medical_settlements" / "known_month=2022-13").exists()


def test_a_report_written_before_ignored_folders_existed_still_reads(paths, sources):
    old = {"month": MONTH, "totals": {}, "files": []}
    assert month_report_from_dict(old).ignored_folders == []


def test_months_to_ingest_refuses_a_bad_month_before_anything_is_touched(paths):
    with pytest.raises(UserError, match="month 13"):
        delivery.months_to_ingest(["2022-13"], paths)
    with pytest.raises(UserError):
        delivery.start_month("../../x", paths)


@pytest.mark.parametrize("month", ["foo", "2022-13", "2022-8", "../../../x"])
@pytest.mark.parametrize("command", ["ingest", "monthly"])
def test_a_bad_month_option_exits_2_with_one_line_and_writes_nothing(
    command, month, tmp_path, monkeypatch, capsys
):
    home = tmp_path / "deep" / "home"
    monkeypatch.setenv("LOWINC_HOME", str(home))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "unit-key")
    monkeypatch.delenv("LOWINC_DEBUG", raising=False)
    _deliver(type("P", (), {"raw": home / "raw"}))
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as caught:
        main([command, "--month", month])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --month") and "Traceback" not in err
    assert sorted(p for p in tmp_path.rglob("*")) == before  # no partitions, no report anywhere
