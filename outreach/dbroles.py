"""PostgreSQL roles for the outreach database: an owner and an application role.

The owner owns every table, the sequences and the audit log's trigger function; migrations run
as the owner (or a superuser). The application connects as the app role, which has ordinary
SELECT/INSERT/UPDATE/DELETE on the working tables but only INSERT and SELECT on ``audit_log``
(and on ``visit_outcomes`` and ``recipient_checks``, whose records are history):
not being the owner, it cannot UPDATE, DELETE or TRUNCATE the log, drop it, or drop or disable
the trigger that guards it. SQLite has no roles; its triggers are the guard there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from outreach.config import DatabaseRoles

AUDIT_TABLE = "audit_log"
# visit records are history too (a correction is a new row): the app appends and reads them
APPEND_ONLY = (AUDIT_TABLE, "visit_outcomes", "outcome_routes", "recipient_checks")
WORKING_TABLES = (
    "users",
    "user_areas",
    "web_sessions",
    "login_attempts",
    "alerts",
    "alert_contacts",
    "visit_tasks",
    "outcome_needs",
    "referrals",
    "outbox",
    "deliveries",
)
WORKING_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def migration_roles(context: Any) -> DatabaseRoles:
    """The roles a migration grants to: those upgrade_engine passed in the Alembic config, else
    ``-x owner_role=… -x app_role=…`` on the alembic command line, else the default names."""
    given = context.config.attributes.get("database_roles")
    if given is not None:
        return given
    x = context.get_x_argument(as_dictionary=True)
    return DatabaseRoles(**{k: x[f"{k}_role"] for k in ("owner", "app") if f"{k}_role" in x})


def _ensure_role(connection: Connection, name: str) -> None:
    """Create the role (able to log in, no password: the DBA sets one) unless it exists; roles
    are cluster-wide, so another database's migration may create it at the same moment."""
    exists = connection.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(name)s", {"name": name})
    if exists.first() is None:
        connection.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {_quote(connection, name)} LOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _existing(connection: Connection, tables: tuple[str, ...]) -> list[str]:
    rows = connection.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%(t)s)",
        {"t": list(tables)},
    )
    return sorted(r[0] for r in rows)


def apply_roles(connection: Connection, roles: DatabaseRoles) -> None:
    """Create the roles if missing, give the owner the tables and grant the app its privileges.

    Idempotent: later migrations call it again after creating tables.
    """
    owner, app = _quote(connection, roles.owner), _quote(connection, roles.app)
    _ensure_role(connection, roles.owner)
    _ensure_role(connection, roles.app)
    schema = _quote(connection, connection.exec_driver_sql("SELECT current_schema()").scalar_one())
    database = _quote(connection, connection.exec_driver_sql("SELECT current_database()").scalar_one())
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {app}",
        f"GRANT USAGE ON SCHEMA {schema} TO {app}",
    ]
    for table in _existing(connection, (*WORKING_TABLES, *APPEND_ONLY, "alembic_version")):
        statements += [f"ALTER TABLE {table} OWNER TO {owner}", f"REVOKE ALL ON {table} FROM PUBLIC, {app}"]
    for table in _existing(connection, WORKING_TABLES):
        statements.append(f"GRANT {WORKING_PRIVILEGES} ON {table} TO {app}")
    for table in _existing(connection, APPEND_ONLY):
        statements.append(f"GRANT SELECT, INSERT ON {table} TO {app}")
    statements += [
        f"GRANT SELECT ON alembic_version TO {app}",  # start-up checks the schema's revision
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",
        f"ALTER FUNCTION audit_log_refuse() OWNER TO {owner}",
    ]
    for statement in statements:
        connection.exec_driver_sql(statement)


def revoke_roles(connection: Connection, roles: DatabaseRoles) -> None:
    """Take the app role's privileges back (the roles themselves stay: they are cluster-wide)."""
    app = _quote(connection, roles.app)
    schema = _quote(connection, connection.exec_driver_sql("SELECT current_schema()").scalar_one())
    for table in _existing(connection, (*WORKING_TABLES, *APPEND_ONLY, "alembic_version")):
        connection.exec_driver_sql(f"REVOKE ALL ON {table} FROM {app}")
    connection.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {app}")
