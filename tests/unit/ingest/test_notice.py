"""The data team's notice text: what to fix, counts and file names only."""

from __future__ import annotations

from ingest.notice import MAX_LINES, ingest_notice
from ingest.report import FileReport, IgnoredFolder, MonthReport

from .factory import make_id


def _ingested(source: str, rows_in: int, quarantined: int, **reasons: int) -> FileReport:
    return FileReport(
        source,
        "t",
        f"{source}.csv",
        "ingested",
        rows_in=rows_in,
        accepted=rows_in - quarantined,
        quarantined=quarantined,
        quarantined_by_reason=reasons,
    )


def test_a_clean_ingest_needs_no_notice():
    report = MonthReport("2023-03", [_ingested("medical", 1000, 20, date_future=20)])  # 2.0%: not above
    assert ingest_notice([report], 0.02) is None
    assert ingest_notice([], 0.02) is None


def test_a_source_above_the_quarantine_share_is_named_with_its_main_reasons():
    files = [
        _ingested("medical", 600, 100, date_future=90, sum_mismatch=10, money_negative=3, unknown_category=1),
        _ingested("medical", 400, 50, date_future=50),
        _ingested("hukou", 1000, 1, id_bad_check_digit=1),
    ]
    notice = ingest_notice([MonthReport("2023-03", files)], 0.02)
    assert notice is not None and notice.title == "lowinc: ingest 2023-03: 1 sources over 2% quarantined"
    assert notice.lines[1:3] == (
        "Quarantine share above 2% (1):",
        "- 2023-03 medical: 15.0% quarantined (150 of 1,000 rows; failures: date_future 140, "
        "sum_mismatch 10, money_negative 3)",
    )


def test_rejected_missing_and_ignored_are_listed_once_across_months_without_personal_data():
    ignored = [IgnoredFolder("medical", "2022-13", "month 13 is not 01-12")]
    leaked = f"header row looks like data: {make_id()}"  # an ID shape in a reason is blanked
    months = [
        MonthReport(
            m,
            [
                FileReport("medical", "t", "医保结算明细.csv", "rejected", f"encoding: {leaked}"),
                FileReport("hukou", "hukou_changes", "户籍变动*.csv", "missing", "no file matching"),
            ],
            ignored,
        )
        for m in ("2023-03", "2023-04")
    ]
    notice = ingest_notice(months, 0.02)
    assert notice is not None and notice.months == ("2023-03", "2023-04")
    text = "\n".join(notice.lines)
    assert (
        notice.title
        == "lowinc: ingest 2023-03..2023-04: 2 rejected files, 2 missing files, 1 ignored folders"
    )
    assert "- 2023-04 hukou/户籍变动*.csv" in text
    assert text.count("raw/medical/2022-13: month 13 is not 01-12") == 1
    assert make_id() not in text and "header row looks like data: …" in text


def test_long_sections_are_cut_and_point_to_the_reports():
    files = [FileReport("employment", "t", f"f{i}.csv", "missing") for i in range(MAX_LINES + 5)]
    notice = ingest_notice([MonthReport("2023-03", files)], 0.02)
    assert notice is not None
    assert "- … and 5 more (see the month reports)" in notice.lines
