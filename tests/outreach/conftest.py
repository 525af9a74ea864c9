"""Fixtures: a throwaway PostgreSQL cluster for the session, a fresh outreach database per test
on SQLite and on PostgreSQL, real receivers, and a small synthetic visit list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from outreach.config import OutreachConfig
from outreach.db import transaction, upgrade
from outreach.jurisdiction import sync_users
from tests.outreach.factory import make_config
from tests.outreach.receivers import HttpReceiver, SmtpReceiver
from tests.postgres import new_database

NOW = dt.datetime(2024, 6, 3, 9, 0, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outreach.db'}"
        return
    yield new_database(request.getfixturevalue("postgres_server"))


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
