"""What a listed household likely qualifies for, on its page, and whether it was taken up after
contact (the dashboard's 应救尽救 table)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from lowinc.home import HomeLayout
from outreach.dashboard import view_dashboard
from outreach.dossier import household_dossier
from outreach.entitlements import open_entitlements, take_up
from outreach.outcomes import record_outcome
from outreach.referrals import update_referral
from tests.outreach.factory import household_key
from tests.outreach.test_dossier import NOW, _scope, listed  # noqa: F401  (fixture)

JUNE = dt.date(2024, 6, 1)
JULY = dt.date(2024, 7, 1)


def _write(layout: HomeLayout, as_of: dt.date, rows: list[dict]) -> None:
    base = {"county_code": "330502", "town_code": "330502001", "village_code": "330502001005"}
    frame = pd.DataFrame(
        [
            {
                **base,
                "est_monthly_amount": 0.0,
                "est_one_off_amount": 0.0,
                "reason_zh": "人均可见收入 600 元/月，低于低保标准 1,100 元",
                **r,
            }
            for r in rows
        ]
    )
    path = layout.entitlements_file(as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def test_the_page_shows_what_is_likely_due_and_not_received_largest_first(tmp_path: Path) -> None:
    layout = HomeLayout(tmp_path)
    key = household_key(0)
    _write(
        layout,
        JUNE,
        [
            {
                "household_key": key,
                "programme": "medical_assistance",
                "likely_eligible": True,
                "receiving": False,
                "est_monthly_amount": 300.0,
            },
            {
                "household_key": key,
                "programme": "dibao",
                "likely_eligible": True,
                "receiving": False,
                "est_monthly_amount": 1500.0,
            },
            {
                "household_key": key,
                "programme": "disability_care",
                "likely_eligible": True,
                "receiving": True,
                "est_monthly_amount": 200.0,
            },
            {
                "household_key": household_key(1),
                "programme": "tekun",
                "likely_eligible": True,
                "receiving": False,
            },
        ],
    )
    shown = open_entitlements(layout, JUNE, key)
    assert [e.programme for e in shown] == ["dibao", "medical_assistance"]  # receiving: not shown
    assert shown[0].name_zh == "低保" and shown[0].route == "dibao" and shown[0].est_monthly_amount == 1500.0
    assert shown[1].route == "medical_aid"
    assert open_entitlements(layout, JULY, key) == ()  # no check that month


def test_take_up_counts_offered_at_the_visit_and_taken_up_by_referral_or_a_later_check(
    tmp_path: Path,
) -> None:
    layout = HomeLayout(tmp_path)
    a, b, c = household_key(0), household_key(1), household_key(2)
    _write(
        layout,
        JUNE,
        [
            {
                "household_key": a,
                "programme": "medical_assistance",
                "likely_eligible": True,
                "receiving": False,
            },
            {"household_key": b, "programme": "dibao", "likely_eligible": True, "receiving": False},
            {"household_key": c, "programme": "dibao", "likely_eligible": True, "receiving": False},
        ],
    )
    _write(
        layout, JULY, [{"household_key": b, "programme": "dibao", "likely_eligible": True, "receiving": True}]
    )
    visits = pd.DataFrame(
        {
            "household_key": [a, b, c],
            "route": ["medical_aid", "dibao", None],
            "referral_status": ["done", None, None],
        }
    )
    table = take_up(layout, JUNE, visits, JULY).set_index("programme")
    assert table.loc["medical_assistance"].tolist() == [1, 1, 1]  # referral done
    assert table.loc["dibao"].tolist() == [2, 1, 1]  # b offered and on the roster in July; c not offered
    assert take_up(layout, JUNE, visits, None).set_index("programme").loc["dibao", "taken_up"] == 0


def test_the_dossier_and_the_dashboard_read_the_check_of_the_alerts_month(
    engine: Engine,
    tmp_path: Path,
    listed: dict[int, int],  # noqa: F811
) -> None:
    layout = HomeLayout(tmp_path)
    key = household_key(0)
    _write(
        layout,
        JUNE,
        [
            {
                "household_key": key,
                "programme": "medical_assistance",
                "likely_eligible": True,
                "receiving": False,
                "est_monthly_amount": 420.0,
            }
        ],
    )
    d = household_dossier(engine, layout, _scope(engine, "王芳"), listed[0], NOW)
    assert [(e.programme, e.est_monthly_amount) for e in d.entitlements] == [("medical_assistance", 420.0)]
    visit = record_outcome(
        engine,
        alert_id=listed[0],
        user_name="王芳",
        visited_on=dt.date(2024, 6, 2),
        result="confirmed",
        needs=["medical"],
        routes=["medical_aid"],
        now=NOW,
        source="web",
    )
    board = view_dashboard(engine, user_name="李强", now=NOW, today=dt.date(2024, 6, 20), layout=layout)
    assert board.take_up.set_index("programme").loc["medical_assistance"].tolist() == [1, 1, 0]
    for status in ("accepted", "done"):
        update_referral(engine, referral_id=visit.referrals[0], user_name="李强", status=status, now=NOW)
    board = view_dashboard(engine, user_name="李强", now=NOW, today=dt.date(2024, 6, 20), layout=layout)
    assert board.take_up.set_index("programme").loc["medical_assistance"].tolist() == [1, 1, 1]
    assert view_dashboard(engine, user_name="李强", now=NOW, today=dt.date(2024, 6, 20)).take_up.empty
