"""How ingest writes and reads its month partitions (the folders are the home's: lowinc.home).

Every output is a partition ``<table>/known_month=YYYY-MM/part-0.parquet`` that a re-run
replaces whole, so re-ingesting a month gives the same bytes and never appends twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lowinc.private import private_dir, private_file

PART = "part-0.parquet"


def partition_dir(base: Path, table: str, month: str) -> Path:
    return base / table / f"known_month={month}"


def clear_partition(base: Path, table: str, month: str) -> None:
    shutil.rmtree(partition_dir(base, table, month), ignore_errors=True)


def write_partition(frame: pd.DataFrame, base: Path, table: str, month: str) -> Path:
    """Replace one month's partition of a table (the month lives in the folder name). Every
    table ingest writes holds personal data (quarantine: whole original rows), so the folders
    are 0700 and the file 0600 whatever the process umask (:mod:`lowinc.private`)."""
    folder = partition_dir(base, table, month)
    shutil.rmtree(folder, ignore_errors=True)
    private_dir(base)  # also fixes up a root made earlier under a looser umask
    private_dir(folder)
    data = frame.drop(columns=["known_month"], errors="ignore")
    path = folder / PART
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), path, compression="zstd")
    return private_file(path)


def read_partitions(
    base: Path, table: str, months: list[str] | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """Partitions of a table (all, or the given months; all columns or the given ones) with
    ``known_month`` restored."""
    parts = []
    root = base / table
    for folder in sorted(root.glob("known_month=*")) if root.exists() else []:
        month = folder.name.split("=", 1)[1]
        if months is not None and month not in months:
            continue
        frame = pq.read_table(folder / PART, columns=columns).to_pandas()
        frame.insert(0, "known_month", month)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def months_of(base: Path, table: str) -> list[str]:
    root = base / table
    return sorted(p.name.split("=", 1)[1] for p in root.glob("known_month=*")) if root.exists() else []
