"""A small month end to end through the plain functions (GX included, no Prefect)."""

import hashlib

import pandas as pd
import pytest

from ingest import delivery, store
from lowinc.home import HomeLayout

from .conftest import KEY
from .factory import (
    HUKOU_HEADER,
    MEDICAL_HEADER,
    bad_check,
    hukou_rows,
    make_id,
    medical_row,
    read_parquet_dir,
    write_csv,
)

MONTH = "2023-03"
HEAD = make_id(seq="011")
OUTSIDER = make_id(area="110105", seq="077")  # not in the area's hukou


def _deliver(paths) -> None:
    write_csv(paths.raw / "hukou" / MONTH / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    rows = [
        medical_row("S1", HEAD),
        medical_row("S2", bad_check(HEAD)),  # wrong check digit
        medical_row("S1", HEAD),  # exact repeat
        medical_row("S3", HEAD.lower(), total="999"),  # parts do not add up
        medical_row("S4", OUTSIDER),
        medical_row("S5", " " + HEAD, fund="-600", total="-200"),  # negative money
        [*medical_row("S6", HEAD)[:6], "2023-02-31 10:00:00", *medical_row("S6", HEAD)[7:]],
    ]
    med = paths.raw / "medical" / MONTH
    write_csv(med / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")
    write_csv(med / "医保结算明细_重报.csv", MEDICAL_HEADER, rows, "utf-8-sig")  # delivered twice


@pytest.fixture
def report(paths, sources, runner):
    _deliver(paths)
    chosen = {k: sources[k] for k in ("hukou", "medical")}
    return delivery.ingest_month(MONTH, paths, chosen, KEY, runner)


def _file(report, name):
    return next(f for f in report.files if f.file == name)


def test_rows_in_equal_accepted_plus_quarantined_plus_duplicates(report):
    for f in report.files:
        assert f.rows_in == f.accepted + f.quarantined + f.duplicates
    first = _file(report, "医保结算明细.csv")
    assert (first.rows_in, first.accepted, first.quarantined, first.duplicates) == (7, 2, 4, 1)
    again = _file(report, "医保结算明细_重报.csv")
    assert (again.rows_in, again.duplicates, again.accepted) == (7, 7, 0)


def test_each_defect_is_quarantined_with_its_kind(report):
    assert _file(report, "医保结算明细.csv").quarantined_by_reason == {
        "date_unparseable": 1,
        "id_bad_check_digit": 1,
        "money_negative": 2,
        "sum_mismatch": 1,
    }  # S5 has two negative amounts: two failures, one quarantined row
    assert _file(report, "医保结算明细.csv").repaired == {"id_spaces": 1}


def test_a_bad_check_digit_row_is_quarantined_with_a_readable_reason(report, paths):
    q = store.read_partitions(paths.quarantine, "medical_settlements", [MONTH])
    row = q[q["kind"] == "id_bad_check_digit"].iloc[0]
    assert row["file"] == "医保结算明细.csv" and row["row_number"] == 2
    assert row["reason"].startswith("医保结算明细.csv row 2: 公民身份号码")
    assert "check character" in row["reason"]
    assert row["expectation"] == "expect_column_pair_values_to_be_equal"
    assert '"结算流水号": "S2"' in row["original"]


def test_people_outside_the_hukou_are_counted_unlinked(report, paths):
    assert _file(report, "医保结算明细.csv").unlinked == 1
    unlinked = store.read_partitions(paths.canonical, "unlinked", [MONTH])
    assert unlinked["rows"].sum() == 1 and unlinked["table"].tolist() == ["medical_settlements"]
    households = store.read_partitions(paths.canonical, "households", [MONTH])
    assert len(households) == 3 and households["household_key"].nunique() == 1


def test_canonical_tables_hold_no_plaintext_id_or_name(report, paths):
    secrets = {r[0] for r in hukou_rows()} | {r[1] for r in hukou_rows()} | {OUTSIDER}
    for path, frame in read_parquet_dir(paths.canonical).items():
        text = frame.astype("str").to_csv() + path.read_bytes().decode("latin-1")
        assert not any(s in text for s in secrets), path
        assert "person_key" in frame.columns or "rows" in frame.columns or frame.empty
    identity = store.read_partitions(paths.identity, "hukou_base")
    assert set(identity["id_no"]) == {r[0] for r in hukou_rows()}
    report_text = (paths.ingest_reports / f"{MONTH}.json").read_text(encoding="utf-8")
    assert not any(s in report_text for s in secrets)


def test_canonical_rows_carry_event_date_and_known_month(report, paths):
    med = store.read_partitions(paths.canonical, "medical_settlements", [MONTH])
    assert set(med["known_month"]) == {MONTH}
    assert (med["event_date"] == pd.Timestamp("2023-02-01")).all()  # admitted before settled


def test_re_ingesting_a_month_gives_the_same_bytes(report, paths, sources, runner):
    def digest():
        return {
            p.relative_to(paths.root): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.root.rglob("*"))
            if p.is_file() and p.parent != paths.secure
        }

    before = digest()
    delivery.ingest_month(MONTH, paths, {k: sources[k] for k in ("hukou", "medical")}, KEY, runner)
    assert digest() == before


def test_a_file_in_the_wrong_encoding_stops_only_itself(paths, sources, runner):
    _deliver(paths)
    med = paths.raw / "medical" / MONTH / "医保结算明细.csv"
    med.write_bytes(med.read_bytes()[3:].decode("utf-8").encode("gb18030"))
    report = delivery.ingest_month(MONTH, paths, {k: sources[k] for k in ("hukou", "medical")}, KEY, runner)
    bad = _file(report, "医保结算明细.csv")
    assert bad.status == "rejected" and "appears to be GB18030" in bad.message
    assert _file(report, "户籍人口_全量.csv").accepted == 3
    assert _file(report, "医保结算明细_重报.csv").accepted == 2  # the resubmission is now first


def test_a_missing_file_is_reported(paths, sources, runner):
    report = delivery.ingest_month(MONTH, paths, {"medical": sources["medical"]}, KEY, runner)
    assert [(f.status, f.table) for f in report.files] == [("missing", "medical_settlements")]


def _deliver_april(paths) -> None:
    rows = [medical_row("S1", HEAD), medical_row("S7", HEAD)]  # S1 was delivered in March
    write_csv(paths.raw / "medical" / "2023-04" / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")


def _ingest(paths, sources, runner, requested: str) -> None:
    chosen = {k: sources[k] for k in ("hukou", "medical")}
    for month in delivery.months_to_ingest([requested], paths):
        delivery.ingest_month(month, paths, chosen, KEY, runner)


def test_a_settlement_id_delivered_in_an_earlier_month_is_a_duplicate(paths, sources, runner):
    _deliver(paths)
    _deliver_april(paths)
    for month in ("2023-03", "2023-04"):
        _ingest(paths, sources, runner, month)
    april = _file(delivery.read_report(paths, "2023-04"), "医保结算明细.csv")
    assert (april.rows_in, april.accepted, april.duplicates) == (2, 1, 1)
    assert any("earlier month" in note for note in april.notes)
    med = store.read_partitions(paths.canonical, "medical_settlements", ["2023-04"])
    assert med["settlement_id"].tolist() == ["S7"]


def test_months_ingested_out_of_order_or_twice_end_as_in_order(tmp_path, sources, runner):
    in_order, shuffled = (HomeLayout(tmp_path / name) for name in ("a", "b"))
    for paths in (in_order, shuffled):
        _deliver(paths)
        _deliver_april(paths)
    for month in ("2023-03", "2023-04"):
        _ingest(in_order, sources, runner, month)
    assert delivery.months_to_ingest(["2023-04"], shuffled) == ["2023-04"]
    _ingest(shuffled, sources, runner, "2023-04")  # April first: S1 is new to it
    assert store.read_partitions(shuffled.canonical, "medical_settlements")["settlement_id"].tolist() == [
        "S1",
        "S7",
    ]
    assert delivery.months_to_ingest(["2023-03"], shuffled) == ["2023-03", "2023-04"]
    _ingest(shuffled, sources, runner, "2023-03")  # March, then April again
    _ingest(shuffled, sources, runner, "2023-03")  # and twice
    for sub in ("canonical", "quarantine", "reports"):
        assert _digests(in_order.root / sub) == _digests(shuffled.root / sub)


def _digests(root) -> dict:
    return {
        p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.*"))
    }


def test_a_run_killed_half_way_leaves_the_month_to_be_ingested_again(report, paths, sources, runner):
    before = _digests(paths.canonical)
    delivery.start_month(MONTH, paths)  # what a run does first; then it is killed after one table
    store.clear_partition(paths.canonical, "medical_settlements", MONTH)
    assert MONTH not in delivery.ingested_months(paths)  # so the next pass ingests it again
    delivery.ingest_month(MONTH, paths, {k: sources[k] for k in ("hukou", "medical")}, KEY, runner)
    assert _digests(paths.canonical) == before and delivery.ingested_months(paths) == [MONTH]
