"""Engines, migrations and transactions for the outreach database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Insert, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lowinc.private import private_dir
from outreach.config import DatabaseRoles
from outreach.schema import AuditLog, Base, VisitOutcome

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_MS = 30_000


def private_sqlite_file(path: Path) -> None:
    """The outreach database holds personal data: its file is owner-only from the start (SQLite
    gives the -wal and -shm files the database file's mode). A missing folder is made owner-only;
    a folder that exists is the operator's (/tmp, /var/lib/...) and is never changed."""
    if not path.parent.exists():
        private_dir(path.parent)
    if not path.exists():
        with suppress(FileExistsError):  # another process made it first
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout, foreign keys and real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        private_sqlite_file(Path(parsed.database))
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # the driver's own transaction handling is off so that BEGIN below is the only one
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # one writer at a time, taken at the start so reads and writes see one snapshot
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_engine(engine: Engine, revision: str = "head", roles: DatabaseRoles | None = None) -> None:
    """Bring the schema of the engine's database to the revision (idempotent); on PostgreSQL the
    migrations give the tables to roles.owner and grant roles.app (default names when None)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["database_roles"] = roles or DatabaseRoles()
        command.upgrade(config, revision)


def upgrade(url: str, roles: DatabaseRoles | None = None) -> Engine:
    """Migrate the database at url to the newest schema and return an engine for it."""
    engine = make_engine(url)
    upgrade_engine(engine, roles=roles)
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def insert_ignoring_duplicates(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert rows, skipping those that break a unique constraint (an idempotent re-run)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = pg_insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases are not supported
        raise NotImplementedError(dialect)
    session.execute(statement, list(rows))


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """The moment as naive UTC, the form every timestamp is stored in."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    """The ORM half of the append-only audit log and visit history (database triggers and, on
    PostgreSQL, the application role's privileges are the other half)."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditLog | VisitOutcome) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError(f"{obj.__tablename__} is append-only: rows cannot be changed or deleted")


__all__ = [
    "Base",
    "insert_ignoring_duplicates",
    "make_engine",
    "transaction",
    "upgrade",
    "upgrade_engine",
    "utc_naive",
]
