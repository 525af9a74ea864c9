"""Queueing a month's visit list on SQLite and PostgreSQL: one transaction, idempotent re-runs,
cooldown with history, assignment by jurisdiction."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from outreach.queue import queue_alerts
from outreach.schema import Alert, AuditLog, Outbox, User, VisitTask
from tests.outreach.conftest import NOW
from tests.outreach.factory import visit_list

pytestmark = pytest.mark.integration


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _alerts(engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(Alert), connection)


def test_red_alerts_go_at_once_and_the_rest_as_one_digest_per_worker(engine, config):
    summary = queue_alerts(
        engine,
        visit_list({0: "red", 3: "orange", 4: "yellow", 10: "orange", 20: "blue"}),
        "run-1",
        NOW,
        config=config,
    )
    assert (summary.alerts, summary.notify, summary.watch, summary.tasks) == (5, 4, 1, 4)
    with Session(engine) as session:
        rows = session.execute(
            select(Outbox.kind, User.name, Outbox.channel).join(User, User.id == Outbox.recipient_id)
        ).all()
        assignees = dict(
            session.execute(
                select(Alert.village_code, User.name)
                .join(VisitTask, VisitTask.alert_id == Alert.id)
                .join(User, User.id == VisitTask.assignee_id)
            ).all()
        )
    assert sorted(rows) == sorted(
        [
            ("red-alert", "王芳", "webhook"),
            ("red-alert", "王芳", "email"),
            ("digest", "王芳", "webhook"),
            ("digest", "王芳", "email"),
            ("digest", "李强", "webhook"),
            ("digest", "李强", "email"),
        ]
    )
    # village worker for A1, town officer for A2 (no village worker there)
    assert assignees == {"330502001005": "王芳", "330502001006": "李强"}


def test_rerunning_the_same_month_queues_nothing_new(engine, config):
    frame = visit_list({0: "red", 3: "orange", 11: "yellow"})
    first = queue_alerts(engine, frame, "run-1", NOW, config=config)
    before = [_count(engine, m) for m in (Alert, VisitTask, Outbox)]
    again = queue_alerts(engine, frame, "run-2", NOW + dt.timedelta(hours=1), config=config)
    assert first.messages == 6 and (again.alerts, again.messages, again.already_queued) == (0, 0, 3)
    assert [_count(engine, m) for m in (Alert, VisitTask, Outbox)] == before


def test_a_household_in_cooldown_stays_listed_with_its_history_but_is_not_pushed(engine, config):
    queue_alerts(
        engine,
        visit_list({0: "orange", 1: "orange", 2: "red"}, "2024-05-01", triggers={2: "户主死亡"}),
        "may",
        NOW,
        config=config,
    )
    june = visit_list({0: "orange", 1: "red", 2: "red"}, "2024-06-01", triggers={2: "户主死亡；房屋D级"})
    summary = queue_alerts(engine, june, "june", NOW + dt.timedelta(days=31), config=config)
    assert (summary.notify, summary.cooldown) == (2, 1)  # 1: tier rose; 2: a new hard trigger
    alerts = _alerts(engine).set_index(["as_of", "household_key"]).sort_index()
    june_rows = alerts.loc[dt.date(2024, 6, 1)]
    may_rows = alerts.loc[dt.date(2024, 5, 1)]
    held = june_rows.loc[june["household_key"][0]]
    assert (
        held["status"] == "cooldown"
        and held["previous_alert_id"] == may_rows.loc[june["household_key"][0], "id"]
    )
    late = visit_list({0: "orange"}, "2024-09-01")  # past the 90 days: alerted again
    assert queue_alerts(engine, late, "sep", NOW + dt.timedelta(days=120), config=config).notify == 1


def test_alerts_tasks_and_outbox_are_written_in_one_transaction(engine, config):
    refuse = {
        "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'refused'); END"],
        "postgresql": [
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused'; END $$",
            "CREATE TRIGGER refuse BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse()",
        ],
    }[engine.dialect.name]
    with engine.begin() as connection:
        for statement in refuse:
            connection.execute(text(statement))
    with pytest.raises(Exception, match="refused"):
        queue_alerts(engine, visit_list({0: "red", 3: "orange"}), "run-1", NOW, config=config)
    assert [_count(engine, m) for m in (Alert, VisitTask, Outbox)] == [0, 0, 0]
    assert _count(engine, AuditLog) == 0


def test_queueing_ten_thousand_households_is_a_bulk_write(engine, config):
    tiers = {n: ("red" if n % 100 == 0 else "orange" if n % 20 == 0 else "yellow") for n in range(10_000)}
    started = time.perf_counter()
    summary = queue_alerts(engine, visit_list(tiers), "big", NOW, config=config)
    seconds = time.perf_counter() - started
    assert summary.alerts == 10_000 and summary.tasks == 10_000
    # red: one in village A1 (worker on two channels), 99 in town B (county officer, e-mail only);
    # digests: the worker, the town officer (two channels each) and the county officer
    assert (summary.red_messages, summary.messages) == (2 + 99, 2 + 99 + 5)
    assert seconds < 20, seconds


def test_how_each_household_was_listed_is_stored_with_its_probability(engine, config):
    frame = visit_list({0: "red", 3: "yellow", 4: "yellow"})
    frame["selection"] = ["rank", "rank", "explore"]
    frame["listing_probability"] = [1.0, 1.0, 0.0125]
    queue_alerts(engine, frame, "run-1", NOW, config=config)
    stored = _alerts(engine).set_index("household_key")
    assert stored.loc[frame["household_key"], "selection"].tolist() == ["rank", "rank", "explore"]
    assert stored.loc[frame["household_key"], "listing_probability"].tolist() == [1.0, 1.0, 0.0125]
    # the drawn household is a visit like the others
    assert stored.loc[frame["household_key"].iloc[2], "status"] == "notify"


def test_a_list_written_before_exploration_is_listed_by_rank_and_a_bad_probability_is_refused(engine, config):
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    assert _alerts(engine)[["selection", "listing_probability"]].values.tolist() == [["rank", 1.0]]
    bad = visit_list({1: "yellow"}, as_of="2024-07-01").assign(selection="explore", listing_probability=0.0)
    with pytest.raises(ValueError, match="listing probability"):
        queue_alerts(engine, bad, "run-2", NOW, config=config)
