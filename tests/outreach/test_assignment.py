"""A village's list shared among its workers within their capacity, the rest to the township."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from outreach.assignment import assign_within_capacity
from outreach.db import transaction
from outreach.queue import queue_alerts
from outreach.schema import User, UserArea, VisitTask
from tests.outreach.conftest import NOW
from tests.outreach.factory import VILLAGE_A1, VILLAGE_A2, make_config, visit_list

TOWN_A = VILLAGE_A1[:9]


def _users(*rows: tuple[int, str, str, str, float | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "role", "level", "code", "capacity"])


def _list(n: int, village: str = VILLAGE_A1, tier: str = "orange") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_code": village,
            "town_code": village[:9],
            "county_code": village[:6],
            "tier": tier,
            "rank_in_village": np.arange(1, n + 1),
            "due_date": pd.Timestamp("2024-06-14"),
        }
    )


def test_two_workers_share_a_village_in_rank_order_and_the_rest_goes_to_the_town():
    users = _users(
        (1, "village_worker", "village", VILLAGE_A1, 3),
        (2, "village_worker", "village", VILLAGE_A1, 2),
        (9, "town_officer", "town", TOWN_A, None),
    )
    got = assign_within_capacity(_list(8), users, default_capacity=30)
    assert got.tolist() == [1, 2, 1, 2, 1, 9, 9, 9]  # in turn by rank; full after 3 and 2


def test_capacity_counts_over_all_of_a_workers_villages_and_red_goes_first():
    users = _users((1, "village_worker", "village", VILLAGE_A1, 4), (9, "town_officer", "town", TOWN_A, None))
    extra = pd.DataFrame({"user_id": [1], "level": ["village"], "code": [VILLAGE_A2]})
    households = pd.concat([_list(3, VILLAGE_A1, "yellow"), _list(3, VILLAGE_A2, "red")], ignore_index=True)
    got = assign_within_capacity(households, users, extra_areas=extra)
    # the three red ones of A2 first, then the most urgent yellow of A1; the other two to the town
    assert got.tolist() == [1, 9, 9, 1, 1, 1]


def test_the_default_capacity_applies_and_earlier_visits_of_the_month_count():
    users = _users(
        (1, "village_worker", "village", VILLAGE_A1, None), (9, "town_officer", "town", TOWN_A, None)
    )
    assert (assign_within_capacity(_list(5), users, default_capacity=2) == 1).sum() == 2
    used = pd.Series({1: 2.0})
    assert (assign_within_capacity(_list(5), users, default_capacity=3, used=used) == 1).sum() == 1


def test_when_a_worker_is_full_the_other_worker_takes_the_rest_before_the_town():
    users = _users(
        (1, "village_worker", "village", VILLAGE_A1, 1),
        (2, "village_worker", "village", VILLAGE_A1, 10),
        (9, "town_officer", "town", TOWN_A, None),
    )
    assert assign_within_capacity(_list(6), users).tolist() == [1, 2, 2, 2, 2, 2]


def test_rows_without_a_visit_use_no_capacity_and_nobody_covering_gives_na():
    users = _users((1, "village_worker", "village", VILLAGE_A1, 1))
    visits = pd.Series([True, False, False])
    assert assign_within_capacity(_list(3), users, visits=visits).tolist() == [1, 1, 1]
    assert assign_within_capacity(_list(2, VILLAGE_A2), users).isna().all()


def test_assignment_is_vectorised_100k_households_in_seconds():
    rng = np.random.default_rng(1)
    villages = [f"330502001{v:03d}" for v in range(1, 401)]
    households = pd.DataFrame({"village_code": rng.choice(villages, 100_000)})
    households["town_code"] = households["village_code"].str[:9]
    households["county_code"] = households["village_code"].str[:6]
    households["tier"] = rng.choice(["red", "orange", "yellow"], len(households), p=[0.1, 0.4, 0.5])
    households["rank_in_village"] = households.groupby("village_code").cumcount() + 1
    households["due_date"] = pd.Timestamp("2024-06-14")
    workers = [(i + 1, "village_worker", "village", villages[i // 2], None) for i in range(800)]
    users = _users(*workers, (9999, "town_officer", "town", "330502001", None))
    started = time.perf_counter()
    got = assign_within_capacity(households, users, default_capacity=30)
    elapsed = time.perf_counter() - started
    assert got.value_counts().drop(9999).max() <= 30 and got.notna().all()
    assert elapsed < 10, elapsed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_queueing_shares_the_village_and_sends_each_assignee_their_own_digest(db_url, engine):
    config = make_config(worker_capacity=2)
    with transaction(engine) as session:
        second = User(name="cw-2", role="village_worker", level="village", code=VILLAGE_A2, addresses={})
        session.add(second)
        session.flush()
        session.add(UserArea(user_id=second.id, level="village", code=VILLAGE_A1))
    frame = visit_list({n: "orange" for n in range(6)})  # six households in village A1
    summary = queue_alerts(engine, frame, "r1", NOW, config=config)
    with transaction(engine) as session:
        counts = dict(
            session.execute(
                select(User.name, func.count())
                .join(VisitTask, VisitTask.assignee_id == User.id)
                .group_by(User.name)
            ).all()
        )
    assert counts == {"王芳": 2, "cw-2": 2, "李强": 2}  # two workers of two each, the town the rest
    assert summary.unassigned == 0
