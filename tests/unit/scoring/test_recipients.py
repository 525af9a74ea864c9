"""Re-verification of recipients: who goes on the 核查 list, who is visited before phase-out ends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import RecipientChecks, ScoringConfig
from scoring.recipients import PHASE_OUT, REVERIFY, recipient_checks

AS_OF = pd.Timestamp("2024-06-01")


def _frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "as_of": AS_OF,
        "county_code": "330502",
        "town_code": "330502001",
        "village_code": "330502001001",
        "assistance_state": "dibao",
        "in_phase_out": False,
        "income_ratio_to_dibao": 0.5,
        "income_ratio_to_edge": 0.33,
        "visible_income_per_capita": 500.0,
        "income_change_3m": 0.0,
        "property_acquired_12m": 0.0,
        "phase_out_months": 0.0,
    }
    return pd.DataFrame([{**base, "household_key": f"h{i}", **r} for i, r in enumerate(rows)])


def test_recipients_whose_data_say_they_may_no_longer_qualify_go_on_the_check_list():
    snap = _frame(
        [
            {},  # still below the line: not listed
            {"income_ratio_to_dibao": 1.5, "visible_income_per_capita": 1650.0},
            {"income_ratio_to_dibao": 1.1, "income_change_3m": 0.5},  # rose sharply, above the line
            {"property_acquired_12m": 1.0},
            {"assistance_state": "edge", "income_ratio_to_dibao": 1.6, "income_ratio_to_edge": 1.07},
            {"assistance_state": "edge", "income_ratio_to_dibao": 2.0, "income_ratio_to_edge": 1.33},
            {"assistance_state": "none", "income_ratio_to_dibao": 3.0},  # not a recipient
            {"income_ratio_to_dibao": 2.0, "income_change_3m": 0.6, "property_acquired_12m": 2.0},
        ]
    )
    out = recipient_checks(snap, np.full(len(snap), np.nan), ScoringConfig())
    listed = out[out["kind"] == REVERIFY].set_index("household_key")
    assert set(listed.index) == {"h1", "h2", "h3", "h5", "h7"}
    assert listed.index[0] == "h7" and listed.loc["h7", "rank_in_town"] == 1  # three signals first
    assert "1,650 元/月，为低保标准的 1.5 倍" in listed.loc["h1", "reasons_zh"]
    assert "上升 50%" in listed.loc["h2", "reasons_zh"] and "取得房产 1 处" in listed.loc["h3", "reasons_zh"]
    assert "低保边缘线的 1.3 倍" in listed.loc["h5", "reasons_zh"]
    assert listed["due_date"].notna().all()


def test_phase_out_households_are_visited_before_it_ends_or_earlier_when_most_at_risk():
    snap = _frame(
        [
            {"in_phase_out": True, "phase_out_months": 10.0},  # 2 months left
            {"in_phase_out": True, "phase_out_months": 2.0},  # 10 left, low risk
            {"in_phase_out": True, "phase_out_months": 3.0},  # 9 left, the highest risk
            {"in_phase_out": True, "phase_out_months": 4.0},
            {"in_phase_out": True, "phase_out_months": 1.0},
            {"in_phase_out": False},
        ]
    )
    risk = np.array([0.05, 0.01, 0.40, 0.02, 0.03, 0.9])
    cfg = ScoringConfig(recipients=RecipientChecks(phase_out_lead_months=3, phase_out_risk_share=0.2))
    out = recipient_checks(snap, risk, cfg)
    phase = out[out["kind"] == PHASE_OUT].set_index("household_key")
    assert set(phase.index) == {"h0", "h2"}
    assert phase.loc["h2", "rank_in_town"] == 1
    assert phase.loc["h0", "due_date"] <= AS_OF + pd.Timedelta(days=60)
    assert "渐退期约剩 2 个月" in phase.loc["h0", "reasons_zh"]


def test_each_list_is_cut_to_the_townships_capacity():
    snap = _frame([{"income_ratio_to_dibao": 1.3 + i / 100} for i in range(30)])
    out = recipient_checks(
        snap, np.full(30, np.nan), ScoringConfig(recipients=RecipientChecks(town_capacity=7))
    )
    assert len(out) == 7 and list(out["rank_in_town"]) == list(range(1, 8))
    assert out["household_key"].iloc[0] == "h29"  # furthest above the line first
