"""Fixtures: a throwaway PostgreSQL cluster for the session, a fresh outreach database per test
on SQLite and on PostgreSQL, real receivers, and a small synthetic visit list."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from outreach.config import OutreachConfig
from outreach.db import transaction, upgrade
from outreach.jurisdiction import sync_users
from tests.outreach.factory import make_config
from tests.outreach.receivers import HttpReceiver, SmtpReceiver, free_port

PG_BIN = Path(os.environ.get("LOWINC_PG_BIN", "/usr/lib/postgresql/15/bin"))
NOW = dt.datetime(2024, 6, 3, 9, 0, 0)


def _as_postgres(args: list[str]) -> None:
    """Run a PostgreSQL binary; as root through `su postgres` (initdb refuses root)."""
    if os.geteuid() == 0:
        command = " ".join(f"'{a}'" for a in args)
        subprocess.run(["su", "postgres", "-c", command], check=True, capture_output=True, text=True)
    else:
        subprocess.run(args, check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL 15 cluster in a temp dir on a free port; its base URL (no database)."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}: run `make test` (it installs postgresql)")
    base = Path(tempfile.mkdtemp(prefix="lowinc-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data, port = base / "data", free_port()
    _as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off"
    _as_postgres(
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outreach.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield f"{server}/{name}"


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def config(webhook: HttpReceiver, smtp: SmtpReceiver) -> OutreachConfig:
    return make_config(webhook_url=f"{webhook.url}/hook", smtp_port=smtp.port)


@pytest.fixture
def engine(db_url: str, config: OutreachConfig) -> Iterator[Engine]:
    """The migrated outreach database with the configured users."""
    engine = upgrade(db_url)
    with transaction(engine) as session:
        sync_users(session, config.users)
    yield engine
    engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    # apprise imports the stdlib's deprecated imghdr; nothing here can change that
    config.addinivalue_line("filterwarnings", "ignore:'imghdr' is deprecated:DeprecationWarning")
