"""The /visits query: scope, filters, working days, audit, and a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, event, insert, select, update
from sqlalchemy.orm import Session

from lowinc.errors import BadValue, NotFound
from outreach.audit import read_audit
from outreach.config import OutreachConfig, UserConfig
from outreach.db import transaction
from outreach.jurisdiction import acting_scope, sync_users
from outreach.queue import queue_alerts
from outreach.schema import Alert, AlertContact, VisitTask
from outreach.workdays import deadline, holiday_array, working_days_left
from outreach.worklist import Worklist, worklist
from tests.outreach.conftest import NOW
from tests.outreach.factory import VILLAGE_A1, VILLAGE_A2, VILLAGE_B1, visit_list

TIERS = {
    0: "red",
    1: "orange",
    2: "yellow",
    3: "yellow",
    4: "blue",
    10: "red",
    11: "yellow",
    20: "red",
    21: "orange",
}
TODAY = dt.date(2024, 6, 7)  # a Friday
TRIGGERS = {0: "新增重度残疾；住房鉴定为D级危房"}


@pytest.fixture
def listed(engine: Engine, config: OutreachConfig) -> Engine:
    """The month queued, a second worker for village A1 who takes household 1, and contacts."""
    second = UserConfig(name="陈静", role="village_worker", level="village", code=VILLAGE_A1)
    # queued before the second worker exists (outreach.assignment would share the village between
    # them by capacity), so the one reassignment below is the only difference
    queue_alerts(engine, visit_list(TIERS, triggers=TRIGGERS), "run-1", NOW, config=config)
    with transaction(engine) as session:
        sync_users(session, [*config.users, second])
    with transaction(engine) as session:
        ids = dict(session.execute(select(Alert.rank_in_town, Alert.id)).all())
        chen = acting_scope(session, "陈静", "export_list").user_id
        session.execute(update(VisitTask).where(VisitTask.alert_id == ids[2]).values(assignee_id=chen))
        session.execute(
            insert(AlertContact),
            [
                {
                    "alert_id": i,
                    "head_name": f"户主{n}",
                    "head_id_masked": "330502********1234",
                    "address": "1号",
                }
                for n, i in ids.items()
            ],
        )
    return engine


def _list(engine: Engine, name: str, **kwargs: Any) -> Worklist:
    with transaction(engine) as session:
        scope = acting_scope(session, name, "export_list")
        return worklist(session, scope, today=TODAY, now=NOW, **kwargs)


def test_a_village_worker_sees_only_the_tasks_assigned_to_them_in_their_village(listed: Engine) -> None:
    mine = _list(listed, "王芳")
    assert {i.village_code for i in mine.items} == {VILLAGE_A1}
    # household 1 went to the second worker; blue 4 has no task (watch only)
    assert [i.risk_rank for i in mine.items] == [1, 3, 4]
    assert [i.tier for i in mine.items] == ["red", "yellow", "yellow"]
    assert mine.total == 3 and mine.as_of == dt.date(2024, 6, 1)
    assert [i.risk_rank for i in _list(listed, "陈静").items] == [2]


def test_an_officer_sees_every_alert_of_their_town_ranked_by_tier(listed: Engine) -> None:
    town = _list(listed, "李强")
    assert {i.village_code for i in town.items} == {VILLAGE_A1, VILLAGE_A2}
    assert len(town.items) == 7  # households 0-4 and 10-11, the blue one without a task included
    order = [i.tier for i in town.items]
    assert order == sorted(order, key=["red", "orange", "yellow", "blue"].index)
    blue = next(i for i in town.items if i.tier == "blue")
    assert blue.status is None and not blue.overdue  # listed, watch only: no task
    assert town.items[0].hard_triggers == ("新增重度残疾", "住房鉴定为D级危房")
    assert town.items[1].hard_triggers == ()
    assert town.items[0].head_name == "户主1" and town.items[0].head_id_masked == "330502********1234"
    county = _list(listed, "赵敏")
    assert {i.village_code for i in county.items} == {VILLAGE_A1, VILLAGE_A2, VILLAGE_B1}


def test_filters_narrow_the_list_and_bad_values_are_refused(listed: Engine) -> None:
    assert {i.tier for i in _list(listed, "李强", tier="yellow").items} == {"yellow"}
    assert {i.village_code for i in _list(listed, "李强", village=VILLAGE_A2).items} == {VILLAGE_A2}
    with transaction(listed) as session:
        session.execute(update(VisitTask).values(status="closed").where(VisitTask.id == 1))
    closed = _list(listed, "李强", status="closed")
    assert len(closed.items) == 1 and closed.items[0].status == "closed"
    assert all(i.status == "new" for i in _list(listed, "李强", status="new").items)
    bads: list[dict[str, Any]] = [
        {"tier": "purple"},
        {"status": "done"},
        {"limit": 0},
        {"limit": 10_000},
        {"offset": -1},
    ]
    for bad in bads:
        with pytest.raises(BadValue):
            _list(listed, "李强", **bad)


@pytest.mark.parametrize(
    "village", [VILLAGE_B1, "330502001999", "33050200100", "３３０５０２００１００５", "x/../1"]
)
def test_a_village_outside_the_scope_or_malformed_is_not_found(listed: Engine, village: str) -> None:
    with pytest.raises(NotFound):
        _list(listed, "李强", village=village)
    with pytest.raises(NotFound):
        _list(listed, "王芳", village=VILLAGE_A2)


def test_pages_and_the_total(listed: Engine) -> None:
    first = _list(listed, "李强", limit=3)
    second = _list(listed, "李强", limit=3, offset=3)
    assert first.total == second.total == 7 and first.has_next
    assert not {i.alert_id for i in first.items} & {i.alert_id for i in second.items}
    past = _list(listed, "李强", limit=3, offset=30)
    assert past.items == () and past.total == 7


def test_trips_group_a_page_by_village_and_due_date(listed: Engine) -> None:
    trips = _list(listed, "李强").trips
    keys = [(t.village_code, t.due_date) for t in trips]
    assert len(keys) == len(set(keys))
    assert sum(len(t.items) for t in trips) == 7
    assert trips[0].due_date == min(t.due_date for t in trips if t.due_date)  # most urgent first
    assert trips[-1].items[-1].tier in ("yellow", "blue")


def test_working_days_and_overdue(listed: Engine) -> None:
    friday = TODAY
    hol = holiday_array(["2024-06-10"])  # 端午节, a Monday
    assert deadline(friday, friday, hol).days_left == 0
    assert deadline(friday, dt.date(2024, 6, 11), hol).days_left == 1  # weekend and holiday skipped
    assert deadline(friday, dt.date(2024, 6, 11)).days_left == 2
    late = deadline(friday, dt.date(2024, 6, 3))
    assert late.overdue and late.days_left == -4
    assert working_days_left(friday, [None])[0].days_left is None
    # red of 2024-06-01 is due on 06-07 (6 days): due today; at 06-12 it is overdue, orange is not
    later = dt.date(2024, 6, 12)
    with transaction(listed) as session:
        scope = acting_scope(session, "李强", "export_list")
        rows = worklist(session, scope, today=later, now=NOW, holidays=np.array([], dtype="datetime64[D]"))
    red = [i for i in rows.items if i.tier == "red"]
    assert all(i.overdue and i.days_left == -3 for i in red)
    assert not any(i.overdue for i in rows.items if i.tier == "orange")


def test_each_view_is_audited_once_with_the_count_and_no_names(listed: Engine) -> None:
    _list(listed, "李强", tier="red")
    audit = read_audit(listed)
    views = audit[audit["action"] == "view_visits"]
    assert len(views) == 1
    row = views.iloc[0]
    assert row["actor"] == "李强" and row["detail"]["rows"] == 2 and row["detail"]["tier"] == "red"
    assert "户主" not in str(row.to_dict())


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_fixed_number_of_statements_whatever_the_list_size(listed: Engine, config: OutreachConfig) -> None:
    def reads(name: str) -> int:
        with Session(listed) as session:
            scope = acting_scope(session, name, "export_list")
            with counted(listed) as statements:
                worklist(session, scope, today=TODAY, audit=False)
            return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    small = reads("赵敏")
    more = {n: "yellow" for n in range(30, 90)}
    queue_alerts(listed, visit_list(more), "run-2", NOW, config=config)
    assert reads("赵敏") == small == 2
    assert reads("王芳") == 2
