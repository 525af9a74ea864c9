"""The latest identity row of every person: ``secure/people_latest.parquet``.

Ingest keeps each person's name and ID number only in the protected identity tables
(``secure/identity/<table>/known_month=…``), one partition per table and delivery month. Naming
someone who belongs to no local household (the 无本地户籍 list) means finding their latest row
with a name; a person who left the register is named only in old months, so the months are read
one after another. This index holds that row for every person, so a page of names is one read.

The rule, shared with the month-by-month reading (:func:`latest_rows`): the row with a name wins
over one without; then the later delivery month; then the later table name; then the later row
of the partition. The index is written after each ingest run (:func:`refresh`): only the
partitions it has not seen are folded in, month by month, unless one it was built from changed
or went away (a month ingested again), when it is built anew. It records the partitions it was
built from (size and modification time) in its metadata, and :func:`lookup` uses it only when
they are still exactly the partitions on disk and all of them are known before the month asked
for; otherwise the caller reads the partitions. Owner-only, written atomically, like every file
under ``secure/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest import store
from lowinc.home import HomeLayout
from lowinc.private import private_dir, private_file

IDENTITY_COLUMNS = ["person_key", "id_no", "name"]
INDEX_COLUMNS = [*IDENTITY_COLUMNS, "known_month", "table"]
SOURCES_KEY = b"lowinc.people_index.sources"
INDEX_FILE = "people_latest.parquet"
ROW_GROUP = 65_536  # rows sorted by person_key: a key filter reads the few groups that hold them

Fingerprint = dict[str, list[int]]  # "table/month" -> [size, mtime_ns] of its identity partition


def index_path(layout: HomeLayout) -> Path:
    return layout.secure / INDEX_FILE


def identity_partitions(root: Path) -> dict[str, tuple[str, str, Path]]:
    """Every identity partition: "table/month" -> (table, month, file), in table then month order."""
    if not root.exists():
        return {}
    found = {}
    for table in sorted(p.name for p in root.iterdir() if p.is_dir()):
        for month in store.months_of(root, table):
            path = store.partition_dir(root, table, month) / store.PART
            if path.exists():
                found[f"{table}/{month}"] = (table, month, path)
    return found


def fingerprint(parts: dict[str, tuple[str, str, Path]]) -> Fingerprint:
    out = {}
    for name, (_table, _month, path) in parts.items():
        stat = path.stat()
        out[name] = [stat.st_size, stat.st_mtime_ns]
    return out


def read_identity(path: Path, keys: pa.Array | None = None) -> pd.DataFrame:
    """The identity columns of one partition (those it has; the rest empty), only the rows
    naming ``keys`` when given."""
    names = pq.read_schema(path).names
    if "person_key" not in names:
        return pd.DataFrame(columns=IDENTITY_COLUMNS)
    present = [c for c in IDENTITY_COLUMNS if c in names]
    wanted = None if keys is None else pc.field("person_key").isin(keys)
    frame: pd.DataFrame = pq.read_table(path, columns=present, filters=wanted).to_pandas()
    return frame.reindex(columns=IDENTITY_COLUMNS)


def latest_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per person of identity rows with ``known_month`` and ``table``: the named row
    over an unnamed one, then the later month, then the later table, then the later row."""
    if rows.empty:
        return rows.reindex(columns=INDEX_COLUMNS)
    named = rows["name"].notna().to_numpy()
    order = rows.assign(_named=named).sort_values(["_named", "known_month", "table"], kind="stable")
    return order.drop_duplicates("person_key", keep="last").drop(columns="_named")


def _month_rows(parts: list[tuple[str, str, Path]]) -> pd.DataFrame:
    frames = [read_identity(path).assign(known_month=month, table=table) for table, month, path in parts]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=INDEX_COLUMNS)


def _sources_of(path: Path) -> Fingerprint | None:
    """The partitions the index was built from; None when there is no index, or one that
    cannot be read (it is then built anew, and read around until it is)."""
    if not path.exists():
        return None
    try:
        raw = (pq.read_schema(path).metadata or {}).get(SOURCES_KEY)
        return None if raw is None else dict(json.loads(raw))
    except (pa.ArrowException, OSError, ValueError):
        return None


def refresh(layout: HomeLayout) -> int:
    """Bring the index up to date with the identity partitions on disk; returns its rows."""
    path = index_path(layout)
    parts = identity_partitions(layout.identity)
    now = fingerprint(parts)
    seen = _sources_of(path)
    if seen is not None and seen == now:
        return int(pq.read_metadata(path).num_rows)
    kept = seen is not None and all(now.get(name) == value for name, value in seen.items())
    base = pd.read_parquet(path) if kept else pd.DataFrame(columns=INDEX_COLUMNS)
    done = set(seen or ()) if kept else set()
    todo = [parts[name] for name in now if name not in done]
    for month in sorted({m for _t, m, _p in todo}):  # one month at a time: memory of one month
        rows = _month_rows([p for p in todo if p[1] == month])
        if len(rows):
            base = latest_rows(pd.concat([base, rows], ignore_index=True) if len(base) else rows)
    table = pa.Table.from_pandas(
        base.reindex(columns=INDEX_COLUMNS).astype("string").sort_values("person_key"), preserve_index=False
    )
    table = table.replace_schema_metadata({SOURCES_KEY: json.dumps(now).encode()})
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP)
    private_file(tmp).replace(path)
    return int(table.num_rows)


def lookup(layout: HomeLayout, keys: list[str], before: str) -> pd.DataFrame | None:
    """The index's rows (person_key, id_no, name) of the keys found, or None when the index
    cannot answer for rows known before the month ``before`` (YYYY-MM): missing, built from
    other partitions than those on disk, or holding a month at or after ``before``."""
    path = index_path(layout)
    seen = _sources_of(path)
    if seen is None:
        return None
    parts = identity_partitions(layout.identity)
    if fingerprint(parts) != seen or any(month >= before for _t, month, _p in parts.values()):
        return None
    wanted = pc.field("person_key").isin(pa.array(keys, pa.string()))
    frame: pd.DataFrame = pq.read_table(path, columns=IDENTITY_COLUMNS, filters=wanted).to_pandas()
    return frame
