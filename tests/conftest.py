"""Fixtures shared by every test folder: a throwaway home for anything that reads the
settings without naming one, and one throwaway PostgreSQL cluster for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.postgres import postgres_cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session; its base URL (no database)."""
    with postgres_cluster() as url:
        yield url


@pytest.fixture(autouse=True, scope="session")
def _throwaway_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """LOWINC_HOME for the session, unless the environment names one: a test that forgets to
    set its own home (a flow's failure hook reads the settings) writes there, never into the
    checkout's .home/ that `make demo` uses."""
    if "LOWINC_HOME" in os.environ:
        yield
        return
    os.environ["LOWINC_HOME"] = str(tmp_path_factory.mktemp("default-home"))
    try:
        yield
    finally:
        os.environ.pop("LOWINC_HOME", None)
