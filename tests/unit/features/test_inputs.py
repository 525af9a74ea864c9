"""The narrowed read (months, columns, rows) gives the snapshot a full read gives, also
when a month of the large monthly tables was never delivered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.snapshot import Canonical, build_snapshot
from ingest.store import write_partition
from pipelines.featurize.inputs import load_canonical
from tests.unit.features.factory import CONFIG, DIVISIONS, THRESHOLDS, hukou, tables

T = pd.Timestamp("2023-07-01")
TABLE_OF = {
    "households": "households",
    "contributions": "pension_contributions",
    "pensions": "pension_payments",
    "registrations": "employment_registrations",
    "roster": "assistance_roster",
    "temporary_aid": "temporary_assistance",
    "settlements": "medical_settlements",
    "certificates": "disability_certificates",
    "appraisals": "house_safety",
    "properties": "property_registrations",
}


def write_canonical(root: Path, data: Canonical) -> None:
    for field, table in TABLE_OF.items():
        frame = getattr(data, field)
        for month, part in frame.groupby("known_month"):
            write_partition(part, root, table, str(month))
    h = data.hukou
    base = h[h["change_type"].isna()].drop(columns="change_type")
    write_partition(base, root, "hukou_base", "2022-01")
    for month, part in h[h["change_type"].notna()].groupby("known_month"):
        write_partition(part, root, "hukou_changes", str(month))


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
    data = tables(contributions=contributions, pensions=pensions, hukou_changes=[death], roster=roster)
    write_canonical(tmp_path, data)
    full = Canonical(**{**data.__dict__, "hukou": hukou(changes=[death]), "delivered_through": "2023-12"})
    narrowed = load_canonical(tmp_path, T, CONFIG.label_horizon, CONFIG.history_months)
    assert len(narrowed.contributions) < len(full.contributions)  # rows were left unread
    assert narrowed.delivered_through is None  # temporary aid never delivered: no label is complete
    a = build_snapshot(narrowed, T, CONFIG, THRESHOLDS, DIVISIONS)
    b = build_snapshot(full, T, CONFIG, THRESHOLDS, DIVISIONS)
    feature_cols = [c for c in a.columns if c not in ("label", "label_complete")]
    pd.testing.assert_frame_equal(a[feature_cols], b[feature_cols])
    h1 = a.set_index("household_key").loc["h1"]
    assert h1["wage_income"] == 1000.0 + months.index("2023-05")
    # p2's wages of January are read only because p2 died (January is not an income month)
    assert h1["earner_died_6m"] and h1["contribution_gap_months_12m"] == 1
    # one income month for every source: May, the latest with contributions, though June's
    # pensions were delivered
    assert a.set_index("household_key").loc["h2", "pension_income"] == 2000.0 + months.index("2023-05")
