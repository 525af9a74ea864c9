"""Fixtures shared by every test folder: one throwaway PostgreSQL cluster for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import postgres_cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session; its base URL (no database)."""
    with postgres_cluster() as url:
        yield url
