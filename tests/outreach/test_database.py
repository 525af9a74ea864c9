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
