"""The SQLite outreach database is owner-only, and a folder the operator chose is left alone
(a database URL under /tmp once turned /tmp itself to 0700)."""

from __future__ import annotations

import os
from pathlib import Path

from outreach.db import make_engine


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_existing_folder_is_not_changed_and_the_file_is_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    engine = make_engine(f"sqlite:///{shared / 'outreach.db'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    assert shared.stat().st_mode & 0o7777 == 0o1777
    assert _mode(shared / "outreach.db") == 0o600


def test_a_missing_folder_is_made_private(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'deeper' / 'outreach.db'}")
    engine.dispose()
    assert _mode(tmp_path / "new" / "deeper") == 0o700
