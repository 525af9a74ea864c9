"""The second list for one as-of date (issue 16): people living in the area without local
hukou, placed in the village of their latest own row with a 区划代码, ranked per township by
the rule score of features/unlinked.py and written beside the visit list as
``unlinked_list.parquet`` (keys and division codes only; names are added only for the worker
entitled to them).

Reading (pipelines/features/inputs.py's read_table) is narrowed to the columns used and the
unlinked people's own rows (a row filter on the key columns ingest linked), so the large tables
cost a column scan, not a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.policy import policy_lines
from features.spine import latest_membership
from features.timeline import add_months, month_label
from features.unlinked import UnlinkedSources, unlinked_people, unlinked_signals
from features.unlinked_place import own_rows, place_people, unplaced_counts
from ingest.delivery import person_key_columns, sources_from
from ingest.store import months_of
from ingest.tables import BY_NAME, HOUSEHOLDS_TABLE, HUKOU_TABLES, UNLINKED_TABLE
from lowinc.divisions import load_divisions
from lowinc.errors import UserError
from lowinc.inputs import parse_as_of
from lowinc.private import write_parquet
from pipelines.features.inputs import read_months, read_table
from pipelines.score.scores import resolve_as_of
from pipelines.settings import Settings
from scoring.unlinked_list import empty_list, unlinked_list

SIGNAL_TABLES = tuple(UnlinkedSources.__dataclass_fields__)
PLACE_COLUMN = "division_code"


@dataclass
class UnlinkedRun:
    """What one run listed (the CLI's --json): people unlinked at T, how many a row placed,
    how many were listed (per county), and those no row places (per county where known)."""

    as_of: str
    people: int
    placed: int
    listed: int
    by_county: dict[str, int] = field(default_factory=dict)
    unplaced: dict[str, int] = field(default_factory=dict)
    output: str = ""


def _months_before(canonical: Path, table: str, as_of: pd.Timestamp) -> list[str]:
    return [m for m in months_of(canonical, table) if m < month_label(as_of)]


def _rows_naming(keys: list[str], key_columns: list[str]) -> pc.Expression:
    """A row filter: the rows whose key columns (at least one) name one of ``keys``. Ingest
    writes every key column of a table's source in each of its partitions."""
    wanted = pa.array(keys, pa.string())
    found = pc.field(key_columns[0]).isin(wanted)
    for col in key_columns[1:]:
        found = found | pc.field(col).isin(wanted)
    return found


def _members(canonical: Path, as_of: pd.Timestamp) -> pd.Series:
    """Person keys of the hukou members at T (the membership of the last month before T)."""
    months = _months_before(canonical, HOUSEHOLDS_TABLE, as_of)[-1:]
    households = read_table(canonical, HOUSEHOLDS_TABLE, months, columns=["person_key"])
    members: pd.Series = latest_membership(households)["person_key"]
    return members


def placing_rows(settings: Settings, people: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    """The people's own rows with a division code, in every table that carries one."""
    canonical = settings.layout.canonical
    keys = people.tolist()
    parts = []
    seen: set[str] = set()
    for source in sources_from(settings.sources_dir).values():
        for spec in source.files:
            if spec.table in HUKOU_TABLES or spec.table in seen:
                continue
            if PLACE_COLUMN not in {c.name for c in spec.columns}:
                continue
            seen.add(spec.table)
            if not (cols := person_key_columns(spec)):  # its rows name nobody
                continue
            frame = read_table(
                canonical,
                spec.table,
                _months_before(canonical, spec.table, as_of),
                _rows_naming(keys, cols),
                columns=["event_date", *cols, PLACE_COLUMN],
            )
            if len(own := own_rows(frame, cols, spec.table)):
                parts.append(own)
    return pd.concat(parts, ignore_index=True) if parts else own_rows(pd.DataFrame(), [], "")


def signal_sources(settings: Settings, people: pd.Index, as_of: pd.Timestamp) -> UnlinkedSources:
    """The four tables' rows of the people, as features/unlinked.py reads them: the known months
    a snapshot reads of each (its features' longest window plus a month, or all history)."""
    canonical = settings.layout.canonical
    wanted = _rows_naming(people.tolist(), ["person_key"])
    frames = {}
    for table in SIGNAL_TABLES:
        spec = BY_NAME[table]
        months = read_months(table, as_of, _months_before(canonical, table, as_of))
        rows = read_table(canonical, table, months, wanted)
        frames[table] = rows.astype({c: t for c, t in spec.dtypes.items() if t != "str"})
    return UnlinkedSources(**frames)


def list_unlinked(settings: Settings, as_of: str | None) -> UnlinkedRun:
    """Place, score and list the people without local hukou at ``as_of`` (default: the
    latest snapshot's date); write the list and return what it holds."""
    ts = resolve_as_of(settings.home, None) if as_of is None else parse_as_of(str(as_of))
    canonical = settings.layout.canonical
    if not _months_before(canonical, HOUSEHOLDS_TABLE, ts):  # no register known: nobody can be judged
        raise UserError(f"nothing ingested before {ts:%Y-%m-%d}", hint="lowinc ingest --all")
    uc = settings.scoring.unlinked
    first = month_label(add_months(ts, -uc.months))
    months = [m for m in _months_before(canonical, UNLINKED_TABLE, ts) if m >= first]
    listed_rows = read_table(canonical, UNLINKED_TABLE, months, columns=["person_key", "table"])
    people = unlinked_people(listed_rows, ts, uc.months, _members(canonical, ts))
    divisions = load_divisions()
    places = place_people(people, placing_rows(settings, people, ts), ts, divisions)
    income = policy_lines(places["county_code"].fillna(""), divisions, settings.policy_lines, ts)
    places["local_income"] = income.local_income_annual
    sources = signal_sources(settings, people, ts)
    signals = []
    for value in sorted(places["local_income"].unique()):  # one pass per distinct local income
        group = places.loc[places["local_income"].to_numpy() == value, "person_key"]
        rows = listed_rows[listed_rows["person_key"].astype("str").isin(group)]
        signals.append(unlinked_signals(rows, ts, sources, float(value), months=uc.months))
    frame = pd.concat(signals, ignore_index=True).merge(places, on="person_key") if signals else None
    lists = unlinked_list(frame, settings.scoring) if frame is not None and len(frame) else empty_list()
    path = write_parquet(lists, settings.layout.unlinked_list(ts))
    by_county = {str(c): int(n) for c, n in lists["county_code"].value_counts().sort_index().items()}
    return UnlinkedRun(
        as_of=f"{ts:%Y-%m-%d}",
        people=len(people),
        placed=int(places["placed"].sum()),
        listed=len(lists),
        by_county=by_county,
        unplaced=unplaced_counts(places),
        output=str(path),
    )
