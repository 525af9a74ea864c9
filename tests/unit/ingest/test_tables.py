"""The canonical table declarations (ingest/tables.py) match what ingest writes, and the
canonical writer refuses rows that lack a declared column."""

from __future__ import annotations

import pandas as pd
import pytest

from ingest.canonical import UndeliveredColumn, check_declared
from ingest.tables import BY_NAME, KNOWN_MONTH, TABLES, missing_columns
from lowinc.sources import FileSpec, SourceSpec


def files(sources: dict[str, SourceSpec]) -> dict[str, FileSpec]:
    return {f.table: f for s in sources.values() for f in s.files}


def written_columns(spec: FileSpec) -> list[str]:
    """The columns canonical_frame writes for a file: its keys and kept columns."""
    kept = [c.key or c.name for c in spec.columns if not c.identity_of]
    return [KNOWN_MONTH, "event_date", *kept]


def test_every_declared_table_but_the_membership_comes_from_a_source_with_its_columns(sources):
    by_table = files(sources)
    for table in TABLES:
        if table.name == "households":  # linked from the hukou tables, not delivered
            continue
        assert table.name in by_table, table.name
        assert missing_columns(table.name, written_columns(by_table[table.name])) == [], table.name


def test_a_sources_yaml_that_drops_a_declared_column_is_refused_by_name(sources):
    spec = files(sources)["medical_settlements"]
    spec = spec.model_copy(update={"columns": tuple(c for c in spec.columns if c.name != "copay")})
    frame = pd.DataFrame(columns=written_columns(spec))
    with pytest.raises(UndeliveredColumn, match=r"medical_settlements lacks declared column\(s\) copay"):
        check_declared(spec, frame)
    whole = files(sources)["medical_settlements"]
    check_declared(whole, pd.DataFrame(columns=written_columns(whole)))  # the real YAML passes


def test_an_undeclared_table_has_nothing_to_check():
    assert missing_columns("unlinked", []) == []
    assert "unlinked" not in BY_NAME


def test_types_are_the_dtypes_ingest_writes():
    roster = BY_NAME["assistance_roster"].dtypes
    assert roster["event_date"] == roster["admitted_date"] == "datetime64[us]"
    assert roster["monthly_benefit"] == "float64" and roster["person_key"] == "str"
    assert BY_NAME["households"].read_columns == ["person_key", "household_key", "division_code", "relation"]
