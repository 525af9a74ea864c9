"""Read the canonical rows a snapshot at T needs, and no more.

The snapshot builder filters to rows known before T itself; reading here is only narrowed
(months, columns, and for the large monthly contribution and pension tables, the rows a
feature can use), so a full read gives the same snapshot. That equivalence is tested. What
is read follows the declarations: each table's columns (ingest/tables.py) and how far back
its features look (features.catalogue.lookback), plus the months after T the labels read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.catalogue import lookback
from features.income import STALE_MONTHS
from features.snapshot import Canonical
from features.timeline import add_months, month_label
from ingest.store import PART, months_of, partition_dir
from ingest.tables import PERSON_TABLES, TABLES

COLUMNS: dict[str, list[str]] = {t.name: t.read_columns for t in TABLES}
LABEL_TABLES = tuple(t.name for t in TABLES if t.labels)
LAG = 1  # a row may be delivered the month after its event: read one known month more than a window
# the large monthly tables, narrowed by rows (see _monthly): whether interrupted contributions are kept
ROW_NARROWED = {"pension_contributions": True, "pension_payments": False}


def read_table(
    canonical: Path,
    table: str,
    months: list[str],
    row_filter: pc.Expression | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Partitions of one table for the given known months (those delivered, in month order),
    with ``known_month`` restored first, then the table's declared columns or ``columns``;
    only the rows ``row_filter`` keeps (every column it names must be in each partition)."""
    have = set(months_of(canonical, table))
    parts = []
    columns = COLUMNS[table] if columns is None else columns
    for month in sorted(set(months) & have):
        path = partition_dir(canonical, table, month) / PART
        names = pq.read_schema(path).names
        data = pq.read_table(path, columns=[c for c in columns if c in names], filters=row_filter)
        for c in columns:  # a column no row ever filled may be absent from an old partition
            if c not in data.column_names:
                data = data.append_column(c, pa.nulls(len(data)))
        frame = data.to_pandas()
        frame.insert(0, "known_month", month)
        parts.append(frame)
    if not parts:
        return pd.DataFrame({"known_month": pd.Series(dtype="str")} | {c: pd.Series() for c in columns})
    return pd.concat(parts, ignore_index=True)


def months_between(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    return [month_label(m) for m in pd.date_range(first, last, freq="MS")]


def delivered_through(canonical: Path) -> str | None:
    """The last month both label sources (the roster and temporary aid) were delivered:
    labels of a horizon ending later are not complete yet."""
    last = [m[-1] if (m := months_of(canonical, t)) else None for t in LABEL_TABLES]
    return None if None in last else min(m for m in last if m)


def latest_delivered(canonical: Path, table: str, month: str) -> str | None:
    """The latest month at or before ``month`` the table was delivered, if not stale."""
    have = [m for m in months_of(canonical, table) if m <= month]
    if not have:
        return None
    floor = month_label(add_months(pd.Timestamp(f"{month}-01"), -STALE_MONTHS))
    return have[-1] if have[-1] >= floor else None


def income_months(canonical: Path, table: str, as_of: pd.Timestamp) -> list[str]:
    """The months of ``table`` whose rows income reads whole: for the latest contribution
    month before T and the months 3 and 12 before it, the table's latest delivery at or
    before each (as features.income picks them)."""
    latest = latest_delivered(canonical, "pension_contributions", month_label(add_months(as_of, -1)))
    base = pd.Timestamp(f"{latest}-01") if latest else add_months(as_of, -1)
    targets = [month_label(add_months(base, -k)) for k in (0, 3, 12)]
    return sorted({m for t in targets if (m := latest_delivered(canonical, table, t))})


def read_months(table: str, as_of: pd.Timestamp, before: list[str]) -> list[str]:
    """The known months of a feature table a snapshot at T reads: its features' longest
    window plus LAG, or every month ``before`` T when a feature needs all history."""
    months = lookback(table)
    if months is None:
        return before
    return months_between(add_months(as_of, -months - LAG), add_months(as_of, -1))


def load_canonical(canonical: Path, as_of: pd.Timestamp, horizon: int) -> Canonical:
    """Everything a snapshot at T reads: rows known before T for features, and the
    deliveries of months T .. T+H-1 of the label tables (the roster and temporary aid)."""
    before = month_label(add_months(as_of, -1))
    all_before = [m for m in _all_months(canonical) if m <= before]
    after = months_between(as_of, add_months(as_of, horizon - 1))
    membership = [m for m in months_of(canonical, "households") if m <= before][-1:]
    changes = read_table(canonical, "hukou_changes", all_before)
    recent = changes["event_date"] >= add_months(as_of, -6)
    deceased = changes.loc[(changes["change_type"] == "death") & recent, "person_key"].unique().tolist()
    frames: dict[str, pd.DataFrame] = {}
    for table in PERSON_TABLES:
        months = read_months(table, as_of, all_before)
        if table in ROW_NARROWED:
            frames[table] = _monthly(canonical, table, as_of, months, deceased, ROW_NARROWED[table])
        else:
            frames[table] = read_table(canonical, table, months + (after if table in LABEL_TABLES else []))
    return Canonical(
        households=read_table(canonical, "households", membership),
        hukou_base=read_table(canonical, "hukou_base", all_before),
        hukou_changes=changes,
        delivered_through=delivered_through(canonical),
        **frames,
    )


def _all_months(canonical: Path) -> list[str]:
    return sorted({m for t in COLUMNS for m in months_of(canonical, t)})


def _monthly(
    canonical: Path, table: str, as_of: pd.Timestamp, window: list[str], deceased: list[str], gaps: bool
) -> pd.DataFrame:
    """A large monthly table: whole months where income is measured; elsewhere in the
    window only interrupted contributions and the rows of members who died recently."""
    full = income_months(canonical, table, as_of)
    rest = [m for m in window if m not in full]
    wanted = pc.field("person_key").isin(pa.array(deceased, pa.string()))
    if gaps:
        wanted = wanted | (pc.field("payment_status") != "due")
    parts = [read_table(canonical, table, full), read_table(canonical, table, rest, wanted)]
    return (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    )
