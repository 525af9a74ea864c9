"""Point 17: on PostgreSQL the application role can append to the audit log and read it, but
cannot change, empty or drop it, nor touch the trigger that guards it; the owner owns all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from outreach.audit import read_audit, record_audit
from outreach.config import DatabaseRoles
from outreach.db import make_engine, transaction
from outreach.queue import queue_alerts
from outreach.startup import open_outreach_db
from tests.outreach.conftest import NOW
from tests.outreach.factory import make_config, visit_list

pytestmark = pytest.mark.integration
ROLES = DatabaseRoles()
FORBIDDEN = [
    "UPDATE audit_log SET actor = 'x'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_log_no_change ON audit_log",
    "DROP TRIGGER audit_log_no_truncate ON audit_log",
    "DROP FUNCTION audit_log_refuse() CASCADE",
    "ALTER TABLE audit_log OWNER TO lowinc_app",
    "SET session_replication_role = replica",  # would skip every trigger
    "UPDATE visit_outcomes SET note = 'x'",  # visit records are history too
    "DELETE FROM visit_outcomes",
    "UPDATE recipient_checks SET result = 'x'",  # so are re-verification records
    "DELETE FROM recipient_checks",
]


@pytest.fixture
def database(postgres_server: str) -> Iterator[tuple[str, str]]:
    """(owner-side URL, application URL) of a fresh database on the session's cluster."""
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    owner_url = f"{postgres_server}/{name}"
    app_url = make_url(owner_url).set(username=ROLES.app).render_as_string(hide_password=False)
    yield owner_url, app_url


def _app_engine(owner_url: str, app_url: str) -> Engine:
    """Start-up as configured for production: migrations on migration_url, the app on its role."""
    config = make_config(migration_url=owner_url, database_url=app_url)
    return open_outreach_db(config, home=None)  # type: ignore[arg-type]


def test_the_app_role_appends_to_the_audit_log_but_cannot_change_drop_or_unguard_it(database):
    owner_url, _app_url = database
    app = _app_engine(*database)
    with app.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar_one() == ROLES.app
    queue_alerts(app, visit_list({0: "red", 1: "orange"}), "run-1", NOW, config=make_config())  # work goes on
    with transaction(app) as session:
        record_audit(session, actor="王芳", action="export_list", target="town:330502001", now=NOW)
    before = read_audit(app)
    assert len(before) >= 2
    for statement in FORBIDDEN:
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), app.begin() as c:
            c.execute(text(statement))
    assert read_audit(app).equals(before)
    with app.begin() as c:  # the app appends re-verification records (grant and sequence)
        c.execute(
            text(
                "INSERT INTO recipient_checks (household_key, as_of, kind, county_code, town_code, "
                "village_code, checked_on, result, source, recorded_by, recorded_at) VALUES ('k', "
                "'2024-06-01', 'reverify', '330502', '330502001', '330502001001', '2024-06-02', "
                "'review', 'web', '王芳', '2024-06-03 09:00:00')"
            )
        )
        assert c.execute(text("SELECT count(*) FROM recipient_checks")).scalar_one() == 1
    app.dispose()
    owner = make_engine(owner_url)
    with owner.connect() as connection:
        owners = dict(
            connection.execute(
                text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
            ).all()
        )
        trigger_function_owner = connection.execute(
            text("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'audit_log_refuse'")
        ).scalar_one()
        audit_grants = connection.execute(
            text(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE table_name = 'audit_log' AND grantee = :app ORDER BY 1"
            ),
            {"app": ROLES.app},
        ).scalars()
        assert sorted(audit_grants) == ["INSERT", "SELECT"]
    owner.dispose()
    assert set(owners.values()) == {ROLES.owner} and "audit_log" in owners
    assert trigger_function_owner == ROLES.owner


def test_a_second_start_up_as_the_app_alone_needs_no_rights_it_lacks(database):
    owner_url, app_url = database
    _app_engine(owner_url, app_url).dispose()
    config = make_config(database_url=app_url)  # migrations at head already
    engine = open_outreach_db(config, home=None)  # type: ignore[arg-type]
    assert len(read_audit(engine)) == 0
    engine.dispose()
