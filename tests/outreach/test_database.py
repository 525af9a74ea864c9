"""The schema on SQLite and PostgreSQL: migrations match the models, the audit log is append-only."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from outreach.audit import read_audit, record_audit
from outreach.db import alembic_config, transaction, upgrade, upgrade_engine
from outreach.schema import AuditLog, Base

pytestmark = pytest.mark.integration
NOW = dt.datetime(2024, 6, 3, 9, 0)


def test_the_migrations_create_exactly_the_models_schema(db_url):
    engine = upgrade(db_url)
    upgrade(db_url).dispose()  # a second start-up changes nothing
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_the_audit_log_refuses_updates_and_deletes_in_the_orm_and_in_sql(engine):
    with transaction(engine) as session:
        record_audit(session, actor="王芳", action="export_list", target="town:330502001", now=NOW)
    with pytest.raises(PermissionError), transaction(engine) as session:
        entry = session.get(AuditLog, 1)
        entry.actor = "someone else"
    with pytest.raises(PermissionError), transaction(engine) as session:
        session.delete(session.get(AuditLog, 1))
    for statement in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"]:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log"))
    audit = read_audit(engine)
    assert audit["actor"].tolist() == ["王芳"]
    with Session(engine) as session, session.begin():  # appending still works
        record_audit(session, actor="李强", action="export_list", target="town:330502001", now=NOW)
    assert len(read_audit(engine)) == 2


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = upgrade(f"sqlite:///{tmp_path / 'o.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_the_schema_downgrades_and_upgrades_again(db_url):
    engine = upgrade(db_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_engine(engine)
    assert {"alerts", "outbox", "audit_log"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_an_outcome_recorded_before_the_history_table_becomes_its_first_record(db_url):
    from outreach.db import make_engine
    from outreach.outcomes import visit_history, visit_outcomes

    engine = make_engine(db_url)
    upgrade_engine(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, name, role, level, code, addresses, active) "
                "VALUES (1, '王芳', 'village_worker', 'village', '330502001005', '{}', true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO alerts (id, household_key, as_of, run_id, county_code, town_code, village_code, "
                "village_name, town_name, tier, risk, rank_in_village, rank_in_town, hard_triggers, "
                "reasons_zh, reasons_en, action_zh, due_date, model_version, status, created_at) VALUES "
                "(1, 'k', '2024-06-01', 'r', '330502', '330502001', '330502001005', '东村', '甲镇', 'red', "
                "0.9, 1, 1, '', '', '', '', '2024-06-07', 'v1', 'notify', '2024-06-03 09:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO visit_tasks (id, alert_id, assignee_id, due_date, status, hardship_confirmed, "
                "visited_on, note, recorded_by, recorded_at) VALUES (1, 1, 1, '2024-06-07', 'done', true, "
                "'2024-06-05', '住院', '王芳', '2024-06-05 10:00:00')"
            )
        )
    upgrade_engine(engine)
    history = visit_history(engine, 1)
    assert history[["visited_on", "hardship_confirmed", "recorded_by"]].values.tolist() == [
        [dt.date(2024, 6, 5), True, "王芳"]
    ]
    assert visit_outcomes(engine)["household_key"].tolist() == ["k"]
    engine.dispose()
