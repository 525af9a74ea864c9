"""The narrowed read (months, columns, rows) gives the snapshot a full read gives, also
when a month of the large monthly tables was never delivered; and what is read follows the
features' declared windows, so a feature looking back further than what is read fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from features.catalogue import FEATURES, lookback
from features.labels import LABEL_COLUMNS
from features.snapshot import Canonical, build_snapshot
from ingest.store import write_partition
from ingest.tables import TABLES
from pipelines.features import inputs
from pipelines.features.inputs import LAG, load_canonical, read_months
from tests.unit.features.factory import CONFIG, DIVISIONS, THRESHOLDS, tables

T = pd.Timestamp("2023-07-01")
LABELS = LABEL_COLUMNS  # every label column: the narrowed read leaves them incomplete


def write_canonical(root: Path, data: Canonical) -> None:
    """Every frame of ``data`` as ingest stores it: one partition per known month."""
    for table in TABLES:
        for month, part in data.frame(table.name).groupby("known_month"):
            write_partition(part, root, table.name, str(month))


def features_of(data: Canonical, as_of: pd.Timestamp) -> pd.DataFrame:
    snap = build_snapshot(data, as_of, CONFIG, THRESHOLDS, DIVISIONS)
    return snap.drop(columns=list(LABELS))


def monthly(person: str, month: str, **values) -> dict:
    return {"known_month": month, "event_date": f"{month}-01", "person_key": person} | values


def test_narrowed_read_equals_full_frames_with_a_month_missing(tmp_path):
    months = [f"2022-{m:02d}" for m in range(5, 13)] + [f"2023-{m:02d}" for m in range(1, 10)]
    contributions = [
        monthly("p1", m, scheme="enterprise", contribution_base=1000.0 + i, payment_status="due")
        for i, m in enumerate(months)
        if m != "2023-06"  # never delivered: income falls back to May
    ] + [
        monthly("p2", "2023-01", scheme="enterprise", contribution_base=4000.0, payment_status="due"),
        monthly("p2", "2023-02", scheme="enterprise", contribution_base=4000.0, payment_status="interrupted"),
    ]
    pensions = [monthly("p4", m, amount=2000.0 + i) for i, m in enumerate(months)]
    death = {
        "known_month": "2023-04",
        "event_date": "2023-03-15",
        "person_key": "p2",
        "household_key": "h1",
        "birth_date": "1980-03-01",
        "change_type": "death",
    }
    roster = [
        {
            "known_month": m,
            "event_date": f"{m}-28",
            "case_key": "c",
            "person_key": "p4",
            "category": "dibao_edge",
            "monthly_benefit": 0.0,
            "income_per_capita": 1500.0,
            "admitted_date": "2022-01-01",
            "state": "active",
        }
        for m in months
    ]
    data = tables(
        pension_contributions=contributions,
        pension_payments=pensions,
        hukou_changes=[death],
        assistance_roster=roster,
    )
    write_canonical(tmp_path, data)
    narrowed = load_canonical(tmp_path, T, CONFIG.label_horizon)
    assert len(narrowed.pension_contributions) < len(data.pension_contributions)  # rows were left unread
    assert narrowed.delivered_through is None  # temporary aid never delivered: no label is complete
    a = features_of(narrowed, T)
    pd.testing.assert_frame_equal(a, features_of(data, T))
    h1 = a.set_index("household_key").loc["h1"]
    assert h1["wage_income"] == 1000.0 + months.index("2023-05")
    # p2's wages of January are read only because p2 died (January is not an income month)
    assert h1["earner_died_6m"] and h1["contribution_gap_months_12m"] == 1
    # one income month for every source: May, the latest with contributions, though June's
    # pensions were delivered
    assert a.set_index("household_key").loc["h2", "pension_income"] == 2000.0 + months.index("2023-05")


def test_every_feature_window_is_read_and_named_windows_are_declared():
    for f in FEATURES:
        for table in f.tables:
            assert table in {t.name for t in TABLES}, (f.name, table)
            read = lookback(table)
            assert read is None or (f.window or 0) <= read, (f.name, table, read)
            assert read is None or len(read_months(table, T, [])) == read + LAG, table
        named = re.search(r"_(\d+)m(_|$)", f.name)
        assert named is None or f.window == int(named.group(1)), f.name


ROSTER = {
    "category": "dibao_edge",
    "monthly_benefit": 0.0,
    "income_per_capita": 900.0,
    "admitted_date": "2020-01-01",
    "state": "active",
}


def history(**rows: list[dict]) -> Canonical:
    """Three years of deliveries (2021-01 .. 2023-12) of every windowed table, one row a
    month, events in the month delivered; the default households."""
    months = [f"{y}-{m:02d}" for y in (2021, 2022, 2023) for m in range(1, 13)]

    def every(person: str, **values: object) -> list[dict]:
        return [{"known_month": m, "event_date": f"{m}-10", "person_key": person} | values for m in months]

    data = {
        "medical_settlements": every(
            "p1",
            visit_type="inpatient",
            critical_illness_paid=100.0,
            assistance_paid=50.0,
            copay=300.0,
            self_pay=200.0,
        ),
        "temporary_assistance": every("p2", amount=800.0, aid_type="expenditure"),
        "property_registrations": every("p1", direction="disposed", reason="sale"),
        "assistance_roster": [
            *every("p1", case_key="c1", **ROSTER),
            *every("p4", case_key="c4", **ROSTER)[::2],  # every other month: exits all along
        ],
        "disability_certificates": every(
            "p2", disability_grade="2", change_type="new", living_subsidy="Y", care_subsidy="N"
        )[:3],  # early, read only because the state at T needs every delivery
    }
    return tables(**(data | rows))


def test_a_snapshot_from_the_narrowed_read_equals_one_from_every_delivery(tmp_path):
    data = history()
    write_canonical(tmp_path, data)
    as_of = pd.Timestamp("2024-01-01")
    narrowed = load_canonical(tmp_path, as_of, CONFIG.label_horizon)
    for table in (
        "medical_settlements",
        "temporary_assistance",
        "property_registrations",
        "assistance_roster",
    ):
        assert len(narrowed.frame(table)) < len(data.frame(table)), table  # older months were not read
    a = features_of(narrowed, as_of)
    pd.testing.assert_frame_equal(a, features_of(data, as_of))
    h1 = a.set_index("household_key").loc["h1"]
    assert (h1["inpatient_stays_12m"], h1["property_sold_12m"], h1["temporary_aid_12m"]) == (12, 12, 12)
    assert h1["severe_disability_members"] == 1
    assert a.set_index("household_key").loc["h2", "exits_24m"] > 0


def test_a_feature_looking_back_further_than_the_read_changes_the_snapshot(tmp_path, monkeypatch):
    """The equality above is what catches a window longer than the read: read settlements
    six months back only, and the 12-month features differ."""
    data = history()
    write_canonical(tmp_path, data)
    as_of = pd.Timestamp("2024-01-01")
    real = inputs.lookback
    monkeypatch.setattr(inputs, "lookback", lambda t: 6 if t == "medical_settlements" else real(t))
    narrowed = load_canonical(tmp_path, as_of, CONFIG.label_horizon)
    a = features_of(narrowed, as_of).set_index("household_key")
    b = features_of(data, as_of).set_index("household_key")
    assert a.loc["h1", "oop_medical_6m"] == b.loc["h1", "oop_medical_6m"]
    assert a.loc["h1", "oop_medical_12m"] < b.loc["h1", "oop_medical_12m"]
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(a, b)


def test_read_table_reads_the_columns_asked_for_a_partition_lacking_one_all_null(tmp_path):
    old = pd.DataFrame({"person_key": ["p1", "p2"], "table": ["medical_settlements"] * 2})
    new = old.assign(source="medical", person_key=["p2", "p3"])
    write_partition(new, tmp_path, "unlinked", "2023-02")
    write_partition(old, tmp_path, "unlinked", "2023-01")
    wanted = pc.field("person_key").isin(pa.array(["p2"], pa.string()))
    rows = inputs.read_table(
        tmp_path, "unlinked", ["2023-02", "2023-01", "2023-03"], wanted, ["person_key", "source"]
    )
    assert list(rows.columns) == ["known_month", "person_key", "source"]
    assert rows["known_month"].tolist() == ["2023-01", "2023-02"]  # the months delivered, in order
    assert rows["person_key"].tolist() == ["p2", "p2"] and rows["source"].tolist() == [None, "medical"]
    assert list(inputs.read_table(tmp_path, "unlinked", [], columns=["person_key"]).columns) == [
        "known_month",
        "person_key",
    ]
