"""Data quality of a delivery month, from month reports built by hand."""

from __future__ import annotations

import json
import stat

import pytest
from pydantic import ValidationError

from ingest.report import FileReport, MonthReport
from lowinc.errors import BadValue
from monitoring.quality import (
    QualityConfig,
    assess_quality,
    first_seen_record,
    late_files,
    quality_notice_lines,
)
from monitoring.quality_state import read_first_seen, record_first_seen

CFG = QualityConfig()
MONTHS = [f"2022-{m:02d}" for m in range(1, 13)] + ["2023-01"]
OPTIONAL_NOTE = "optional column 住址 (address) is missing: left empty"
REQUIRED_MESSAGE = (
    "missing_required_column: required column 户主身份证号 (head_id_no) is missing; expected a header "
    "named 户主身份证号; found 12 known (1-12)"
)


def ingested(source: str, table: str, rows: int, quarantined: int = 0, **reasons: int) -> FileReport:
    return FileReport(
        source,
        table,
        f"{table}.csv",
        "ingested",
        rows_in=rows,
        accepted=rows - quarantined,
        quarantined=quarantined,
        quarantined_by_reason=reasons,
    )


def missing(source: str, table: str) -> FileReport:
    return FileReport(source, table, f"{table}*.csv", "missing", f"no file matching {table}*.csv delivered")


def normal(month: str, medical_rows: int = 400, **changes: FileReport) -> MonthReport:
    """A month of three sources, two tables for employment; ``changes`` replace a table's file."""
    files = {
        "medical_settlements": ingested("medical", "medical_settlements", medical_rows, 2, money_negative=2),
        "pension_payments": ingested("employment", "pension_payments", 1200, 3, id_bad_check_digit=3),
        "pension_contributions": ingested("employment", "pension_contributions", 1900),
        "disability_certificates": ingested("disability", "disability_certificates", 3),
    }
    files.update(changes)
    return MonthReport(month, list(files.values()))


def year(**changes: FileReport) -> tuple[MonthReport, list[MonthReport]]:
    """12 normal months of history and 2023-01 with ``changes``."""
    return normal(MONTHS[-1], **changes), [normal(m) for m in MONTHS[:-1]]


def kinds(result, severity: str | None = None) -> set[tuple[str, str]]:
    return {(f.kind, f.source) for f in result.findings if severity in (None, f.severity)}


def test_twelve_stable_months_are_green_and_logged_flat() -> None:
    current, history = year()
    result = assess_quality(current, history, CFG)
    assert result.status == "green" and not result.findings and not result.schema_break
    assert result.month == "2023-01"
    m = result.metrics
    assert m["quality.medical.rows"] == 400 and m["quality.medical.rows_ratio_to_median12"] == 1.0
    assert m["quality.employment.rows"] == 1200 - 3 + 1900 - 0 + 3  # accepted + quarantined
    assert m["quality.medical.quarantine_share"] == pytest.approx(2 / 400)
    assert m["quality.medical.quarantine_share.money_negative"] == pytest.approx(2 / 400)
    assert m["quality.rejected_files"] == m["quality.missing_files"] == m["quality.late_files"] == 0
    assert all(isinstance(v, float) for v in m.values())
    assert list(result.table["source"]) == ["disability", "employment", "medical"]
    assert set(result.table["status"]) == {"green"}
    assert quality_notice_lines(result) == []


def test_a_vanished_required_column_is_a_red_schema_break() -> None:
    rejected = FileReport("medical", "medical_settlements", "医保结算.csv", "rejected", REQUIRED_MESSAGE)
    current, history = year(medical_settlements=rejected)
    result = assess_quality(current, history, CFG)
    assert result.status == "red" and result.schema_break
    assert ("vanished_columns", "medical") in kinds(result, "red")
    (finding,) = [f for f in result.findings if f.kind == "vanished_columns"]
    assert "户主身份证号 (head_id_no)" in finding.text and "医保结算.csv" in finding.text
    assert result.metrics["quality.rejected_files"] == 1 and result.metrics["quality.schema_break"] == 1
    # the rejected table is not also judged on its (zero) rows
    assert not any(f.kind == "row_count" for f in result.findings)
    lines = quality_notice_lines(result)
    assert "RED" in lines[0] and "schema break" in lines[0]
    assert any("restore the column" in line for line in lines)


def test_an_optional_column_delivered_before_and_gone_now_is_vanished() -> None:
    gone = ingested("medical", "medical_settlements", 400)
    gone.notes = [OPTIONAL_NOTE]
    current, history = year(medical_settlements=gone)
    result = assess_quality(current, history, CFG)
    assert result.schema_break and result.status == "red"
    assert any(f.kind == "vanished_columns" and "住址 (address)" in f.text for f in result.findings)

    # never delivered in any month: not a vanished column
    def without(month: str) -> MonthReport:
        f = ingested("medical", "medical_settlements", 400)
        f.notes = [OPTIONAL_NOTE]
        return normal(month, medical_settlements=f)

    steady = assess_quality(without(MONTHS[-1]), [without(m) for m in MONTHS[:-1]], CFG)
    assert not steady.schema_break and steady.status == "green"


def test_new_columns_are_amber_once() -> None:
    extra = ingested("employment", "pension_payments", 1200)
    extra.extra_columns = ["column 3 (unrecognised header)"]
    current, history = year(pension_payments=extra)
    result = assess_quality(current, history, CFG)
    assert result.status == "amber" and not result.schema_break
    assert kinds(result) == {("new_columns", "employment")}
    # the next month delivers it again: not new any more
    again = assess_quality(normal("2023-02", pension_payments=extra), [*history, current], CFG)
    assert not any(f.kind == "new_columns" for f in again.findings)


def test_quarantine_share_of_five_percent_is_amber_with_the_reason_named() -> None:
    bad = ingested("medical", "medical_settlements", 400, 20, id_bad_check_digit=15, money_negative=5)
    current, history = year(medical_settlements=bad)
    result = assess_quality(current, history, CFG)
    assert result.status == "amber"
    (finding,) = result.findings
    assert (finding.kind, finding.source, finding.severity) == ("quarantine_share", "medical", "amber")
    assert "5.0%" in finding.text and "id_bad_check_digit 15" in finding.text
    assert result.metrics["quality.medical.quarantine_share"] == pytest.approx(0.05)
    assert result.metrics["quality.medical.quarantine_share.id_bad_check_digit"] == pytest.approx(15 / 400)
    row = result.table.set_index("source").loc["medical"]
    assert row["status"] == "amber" and row["top_reasons"].startswith("id_bad_check_digit 15")
    # above the red share: red, yet not a schema break
    worse = ingested("medical", "medical_settlements", 400, 60, money_negative=60)
    red = assess_quality(normal(MONTHS[-1], medical_settlements=worse), history, CFG)
    assert red.status == "red" and not red.schema_break


def test_share_exactly_at_the_threshold_is_not_flagged() -> None:
    """The same semantics as ingest.notice_quarantine_share: strictly above."""
    at = ingested("medical", "medical_settlements", 400, 8, money_negative=8)
    current, history = year(medical_settlements=at)
    assert assess_quality(current, history, CFG).status == "green"


def test_row_count_collapse_to_forty_percent_is_red() -> None:
    current = normal(MONTHS[-1], medical_rows=160)
    result = assess_quality(current, [normal(m) for m in MONTHS[:-1]], CFG)
    assert result.status == "red" and not result.schema_break
    (finding,) = result.findings
    assert (finding.kind, finding.source, finding.severity) == ("row_count", "medical", "red")
    assert "40%" in finding.text
    assert result.metrics["quality.medical.rows_ratio_to_median12"] == pytest.approx(0.4)
    # 120%: within the band; 140%: amber
    assert assess_quality(normal(MONTHS[-1], 480), [normal(m) for m in MONTHS[:-1]], CFG).status == "green"
    assert assess_quality(normal(MONTHS[-1], 560), [normal(m) for m in MONTHS[:-1]], CFG).status == "amber"


def test_row_counts_with_little_history_or_few_rows_are_reported_not_judged() -> None:
    result = assess_quality(normal("2022-03", medical_rows=100), [normal("2022-01"), normal("2022-02")], CFG)
    assert result.status == "green"
    assert result.metrics["quality.medical.rows"] == 100
    row = result.table.set_index("source").loc["medical"]
    assert not row["rows_judged"] and row["rows_ratio"] == pytest.approx(0.25)
    # a source of a handful of rows a month is not judged either (3 → 0 happens by chance)
    empty = ingested("disability", "disability_certificates", 0)
    current, history = year(disability_certificates=empty)
    assert assess_quality(current, history, CFG).status == "green"


def test_history_is_only_the_twelve_months_before() -> None:
    old = [normal(f"2020-{m:02d}", medical_rows=4000) for m in range(1, 13)]
    later = normal("2023-06", medical_rows=10)
    current, history = year()
    result = assess_quality(current, [*old, *history, later], CFG)
    assert result.status == "green"
    assert result.table.set_index("source").loc["medical", "median_rows_12m"] == 400


def test_a_missing_file_is_amber_a_source_with_nothing_delivered_is_a_schema_break() -> None:
    current, history = year(pension_payments=missing("employment", "pension_payments"))
    result = assess_quality(current, history, CFG)
    assert result.status == "amber" and kinds(result) == {("missing_file", "employment")}
    assert result.metrics["quality.missing_files"] == 1
    current, history = year(medical_settlements=missing("medical", "medical_settlements"))
    result = assess_quality(current, history, CFG)
    assert result.status == "red" and result.schema_break
    assert ("schema_break", "medical") in kinds(result, "red")


def test_a_rejected_file_for_another_reason_is_amber() -> None:
    msg = "wrong_encoding: declared encoding GB18030, but the file appears to be UTF-8 110101199001011234"
    rejected = FileReport("medical", "medical_settlements", "医保结算.csv", "rejected", msg)
    current, history = year(medical_settlements=rejected)
    result = assess_quality(current, history, CFG)
    assert result.status == "amber" and not result.schema_break
    (finding,) = result.findings
    assert finding.kind == "rejected_file" and "wrong_encoding" in finding.text
    assert "110101199001011234" not in finding.text  # ID-like digits blanked
    assert all("110101199001011234" not in line for line in quality_notice_lines(result))


def test_a_month_first_seen_missing_and_later_ingested_is_a_late_file(tmp_path) -> None:
    state = tmp_path / "state" / "first_seen"
    at_first = normal("2022-12", medical_settlements=missing("medical", "medical_settlements"))
    assert record_first_seen(state, at_first)["medical/medical_settlements"] == "missing"
    # the file arrives; 2022-12 is re-ingested; 2023-01 is assessed a month later
    redelivered = normal("2022-12")
    assert record_first_seen(state, redelivered)["medical/medical_settlements"] == "missing"  # kept
    first_seen = read_first_seen(state)
    assert set(first_seen) == {"2022-12"}
    history = [*(normal(m) for m in MONTHS[:-2]), redelivered]
    result = assess_quality(normal(MONTHS[-1]), history, CFG, first_seen)
    assert result.status == "amber"
    (finding,) = result.findings
    assert (finding.kind, finding.source) == ("late_file", "medical")
    assert "2022-12" in finding.text and "medical_settlements.csv" in finding.text
    assert result.metrics["quality.late_files"] == 1
    assert late_files(history, first_seen) == [finding]
    assert late_files(history, None) == []
    # the state is owner-only
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "2022-12.json").stat().st_mode) == 0o600


def test_first_seen_record_is_per_table() -> None:
    twice = [
        FileReport("medical", "medical_settlements", "医保结算.csv", "rejected", "unreadable: x"),
        ingested("medical", "medical_settlements", 10),
    ]
    record = first_seen_record(MonthReport("2022-05", [*twice, missing("housing", "house_safety")]))
    assert record == {"medical/medical_settlements": "ingested", "housing/house_safety": "missing"}


def test_a_broken_state_file_is_a_user_error(tmp_path) -> None:
    (tmp_path / "2022-05.json").write_text(json.dumps(["not", "a", "map"]))
    with pytest.raises(BadValue, match=r"2022-05\.json"):
        read_first_seen(tmp_path)
    assert read_first_seen(tmp_path / "none") == {}


def test_thresholds_must_nest() -> None:
    with pytest.raises(ValidationError):
        QualityConfig(row_ratio_amber=(0.4, 1.25), row_ratio_red=(0.5, 2.0))
    with pytest.raises(ValidationError):
        QualityConfig(quarantine_share_amber=0.2, quarantine_share_red=0.1)
    with pytest.raises(ValidationError):
        QualityConfig(unknown=1)  # type: ignore[call-arg]
