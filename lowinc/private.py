"""Folders and files that hold personal data: readable by their owner only, whatever the umask.

Department extracts, quarantined rows (whole original rows, with ID numbers and names), the
identity tables, pseudonymised tables and snapshots, scores, the outreach database and the
Excel visit lists all live under the project home. Two layers keep them private:

- every entry point (the ``lowinc`` command, the Prefect flows a worker runs) sets a process
  umask of 0o077, so whatever any library creates afterwards (Parquet, SQLite with its -wal
  and -shm files, openpyxl, MLflow) is 0600 and every folder 0700;
- where lowinc itself makes a personal-data folder or file it sets the mode explicitly
  (``mkdir``'s mode is masked by the umask, and a folder made earlier under a looser umask
  must be fixed up), so library use without an entry point is private too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lowinc.home import HomeLayout

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_process() -> None:
    """Tighten this process's umask so group and others get no access to anything it creates
    (a stricter umask already set is kept)."""
    current = os.umask(PRIVATE_UMASK)
    os.umask(current | PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Make a folder (and its missing parents) owner-only, or fix up one that exists."""
    path = Path(path)
    missing = [p for p in [path, *path.parents] if not p.exists()]
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for folder in missing:  # mkdir's mode is masked by the umask: set it explicitly
        os.chmod(folder, DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make a file a library wrote owner-only (read and write)."""
    os.chmod(path, FILE_MODE)
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table whole and owner-only: beside its place first, then renamed over it, so a
    reader (or a crash) sees the old file or the new one, never half of one."""
    private_dir(Path(path).parent)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    frame.to_parquet(tmp, index=False)
    private_file(tmp).replace(path)
    return Path(path)


def secure_home(home: Path) -> None:
    """Fix up a home made earlier under a looser umask: the home and each personal-data folder
    in it to 0700 (nothing is created; new folders are private where they are written)."""
    if not Path(home).is_dir():
        return
    os.chmod(home, DIR_MODE)
    for folder in HomeLayout(Path(home)).personal_data:
        if folder.is_dir():
            os.chmod(folder, DIR_MODE)
