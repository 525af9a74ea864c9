from __future__ import annotations

from pathlib import Path

import pytest

from ingest.suites import SuiteRunner, default_runner
from lowinc.home import HomeLayout
from lowinc.settings import DEFAULT_CONFIG_DIR
from lowinc.sources import SourceSpec, load_sources


@pytest.fixture(scope="session")
def sources() -> dict[str, SourceSpec]:
    return load_sources(DEFAULT_CONFIG_DIR / "sources")


@pytest.fixture(scope="session")
def runner() -> SuiteRunner:
    """One Great Expectations context for the whole session (its import costs seconds)."""
    return default_runner()


@pytest.fixture
def paths(tmp_path: Path) -> HomeLayout:
    return HomeLayout(tmp_path / "home")


KEY = b"test-pseudonym-key"
