"""Simulated field visits: the rates a worker sees the truth with, the five codes only, the
needs, determinism; and one small real SQLite outreach database recorded through
record_outcome, as the web form records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db import transaction, upgrade
from outreach.field import RESULTS
from outreach.jurisdiction import sync_users
from outreach.outcomes import visit_outcomes
from outreach.queue import queue_alerts
from outreach.schema import OutcomeNeed, VisitOutcome, VisitTask
from simulator.field import FieldVisitConfig, simulate_visits
from simulator.state import DIBAO, NONE
from simulator.visits import month_tasks, record_visits
from tests.outreach.factory import household_key, make_config, visit_list

N = 6000
AS_OF = dt.date(2024, 6, 1)


def _tasks(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "alert_id": np.arange(1, n + 1),
            "household_key": [f"k{i}" for i in range(n)],
            "as_of": pd.Timestamp(AS_OF),
            "due_date": pd.Timestamp(AS_OF) + pd.Timedelta(days=20),
        }
    )


def _truth(
    n: int, poor: np.ndarray, assistance: np.ndarray, months: tuple[str, ...] = ("2024-06",)
) -> pd.DataFrame:
    rows = [
        pd.DataFrame(
            {
                "household_key": [f"k{i}" for i in range(n)],
                "month": month,
                "in_poverty": poor,
                "assistance": assistance,
                "rigid_expenditure": np.where(np.arange(n) % 2 == 0, 2000.0, 0.0),
                "members": 2,
                "dibao_standard": 1100.0,
            }
        )
        for month in months
    ]
    return pd.concat(rows, ignore_index=True)


def test_rates_are_the_regions_draws_within_their_ranges_and_the_results_follow_the_truth():
    config = FieldVisitConfig(seed=3)
    miss, unreachable = config.rates()
    assert 0.10 <= miss <= 0.20 and 0.05 <= unreachable <= 0.10
    poor = np.arange(N) % 2 == 0  # half truly poor
    assistance = np.where(np.arange(N) % 10 == 1, DIBAO, NONE)  # a tenth of the not poor assisted
    visits = simulate_visits(_tasks(), _truth(N, poor, assistance), config)
    assert set(visits["result"]) <= set(RESULTS) and "refused" not in set(visits["result"])
    reached = visits["result"] != "unreachable"
    assert abs((~reached).mean() - unreachable) < 0.015
    poor_reached = visits[reached & visits["truly_poor"]]
    assert abs((poor_reached["result"] == "no_hardship").mean() - miss) < 0.02  # missed hardship
    not_poor = visits[reached & ~visits["truly_poor"]]
    assert not (not_poor["result"] == "confirmed").any()  # never a hardship that is not there
    assisted = visits["alert_id"].isin(np.flatnonzero(assistance == DIBAO) + 1) & reached
    assert (visits.loc[assisted, "result"] == "assisted").all()
    dates = pd.to_datetime(visits["visited_on"])
    assert dates.min() >= pd.Timestamp(AS_OF) and dates.max() <= pd.Timestamp(AS_OF) + pd.Timedelta(days=20)


def test_confirmed_visits_carry_basic_living_and_medical_when_rigid_spending_is_high():
    poor = np.ones(N, bool)
    visits = simulate_visits(_tasks(), _truth(N, poor, np.full(N, NONE)), FieldVisitConfig(seed=5))
    confirmed = visits[visits["result"] == "confirmed"]
    high = confirmed["household_key"].str[1:].astype(int) % 2 == 0  # rigid 1000 a member, standard 1100
    assert (confirmed.loc[high, "needs"] == ("basic_living", "medical")).all()
    assert (confirmed.loc[~high, "needs"] == ("basic_living",)).all()
    assert (visits.loc[visits["result"] != "confirmed", "needs"].map(len) == 0).all()


def test_a_household_missing_from_the_visit_months_truth_is_unreachable_and_a_seed_repeats():
    truth = _truth(10, np.ones(10, bool), np.full(10, NONE))
    tasks = _tasks(12)  # two households the truth does not hold (left the area)
    config = FieldVisitConfig(seed=9)
    first, again = (
        simulate_visits(tasks, truth, config),
        simulate_visits(tasks.sample(frac=1.0, random_state=1), truth, config),
    )
    pd.testing.assert_frame_equal(first, again)
    assert (first.loc[first["alert_id"] > 10, "result"] == "unreachable").all()
    other = simulate_visits(
        _tasks(), _truth(N, np.ones(N, bool), np.full(N, NONE)), FieldVisitConfig(seed=10)
    )
    base = simulate_visits(_tasks(), _truth(N, np.ones(N, bool), np.full(N, NONE)), FieldVisitConfig(seed=9))
    assert not other["result"].equals(base["result"])


def test_the_config_refuses_a_range_outside_zero_to_one():
    with pytest.raises(ValueError, match="miss"):
        FieldVisitConfig(miss=(0.3, 0.2))


def test_visits_are_recorded_through_record_outcome_as_the_assigned_worker(tmp_path: Path):
    config = make_config()
    engine = upgrade(f"sqlite:///{tmp_path / 'outreach.db'}")
    try:
        with transaction(engine) as session:
            sync_users(session, config.users)
        tiers = {n: "red" if n < 3 else "orange" for n in range(10)}  # village A1: worker 王芳
        queue_alerts(engine, visit_list(tiers), "run-1", dt.datetime(2024, 6, 3, 1), config=config)
        tasks = month_tasks(engine, AS_OF)
        assert len(tasks) > 0 and set(tasks["assignee"]) == {"王芳"}
        assert set(tasks["selection"]) == {"rank"} and (tasks["listing_probability"] == 1.0).all()
        keys = [household_key(n) for n in range(10)]
        truth = pd.DataFrame(
            {
                "household_key": keys * 2,
                "month": ["2024-06"] * 10 + ["2024-07"] * 10,
                "in_poverty": [True] * 20,
                "assistance": [NONE] * 20,
                "rigid_expenditure": [3000.0] * 20,
                "members": [1] * 20,
                "dibao_standard": [1100.0] * 20,
            }
        )
        visits = simulate_visits(tasks, truth, FieldVisitConfig(miss=(0.0, 0.0), unreachable=(0.0, 0.0)))
        recorded = record_visits(engine, tasks, visits)
        assert len(recorded) == len(tasks) and (recorded["result"] == "confirmed").all()
        with Session(engine) as session:
            sources = set(session.execute(select(VisitOutcome.source)).scalars())
            by = set(session.execute(select(VisitOutcome.recorded_by)).scalars())
            needs = session.execute(select(OutcomeNeed.category)).scalars().all()
            statuses = set(session.execute(select(VisitTask.status)).scalars())
        assert sources == {"simulated"} and by == {"王芳"}
        assert sorted(set(needs)) == ["basic_living", "medical"]  # the needs register fills
        assert statuses == {"visited"}  # needs open: the task waits for follow-up
        labels = visit_outcomes(engine)
        assert len(labels) == len(tasks) and labels["hardship_confirmed"].all()
        assert month_tasks(engine, AS_OF).empty  # visited tasks are not visited again
    finally:
        engine.dispose()
