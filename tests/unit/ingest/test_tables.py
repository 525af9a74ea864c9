"""The canonical table declarations (ingest/tables.py) match what ingest writes, and the
canonical writer refuses rows that lack a declared column."""

from __future__ import annotations

import shutil

import pytest

from ingest import delivery, store
from ingest.canonical import UndeliveredColumn, check_declared, written_columns
from ingest.delivery import sources_from
from ingest.tables import BY_NAME, TABLES, missing_columns
from lowinc.settings import DEFAULT_CONFIG_DIR
from lowinc.sources import FileSpec, SourceSpec

from .conftest import KEY
from .factory import HUKOU_HEADER, MEDICAL_HEADER, hukou_rows, make_id, medical_row, write_csv

MONTH = "2023-03"
HEAD = make_id(seq="011")


def files(sources: dict[str, SourceSpec]) -> dict[str, FileSpec]:
    return {f.table: f for s in sources.values() for f in s.files}


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
    with pytest.raises(UndeliveredColumn, match=r"medical_settlements lacks declared column\(s\) copay"):
        check_declared(spec)
    check_declared(files(sources)["medical_settlements"])  # the real YAML passes


def test_the_sources_loaded_for_ingest_are_checked_against_the_declarations(tmp_path):
    shutil.copytree(DEFAULT_CONFIG_DIR / "sources", tmp_path / "sources")
    medical = tmp_path / "sources" / "medical.yaml"
    text = medical.read_text(encoding="utf-8")
    medical.write_text(text.replace("name: visit_type", "name: kind_of_visit"), encoding="utf-8")
    with pytest.raises(UndeliveredColumn, match="medical_settlements lacks declared column"):
        sources_from(tmp_path / "sources")
    assert "medical" in sources_from(DEFAULT_CONFIG_DIR / "sources")


def test_the_written_columns_are_what_ingest_writes(paths, sources, runner):
    write_csv(
        paths.raw / "medical" / MONTH / "医保结算明细.csv",
        MEDICAL_HEADER,
        [medical_row("S1", HEAD)],
        "utf-8-sig",
    )
    write_csv(paths.raw / "hukou" / MONTH / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    chosen = {k: sources[k] for k in ("hukou", "medical")}
    delivery.ingest_month(MONTH, paths, chosen, KEY, runner)
    spec = files(sources)["medical_settlements"]
    written = store.read_partitions(paths.canonical, spec.table)
    assert len(written) == 1 and list(written.columns) == written_columns(spec)


def test_an_undeclared_table_has_nothing_to_check():
    assert missing_columns("unlinked", []) == []
    assert "unlinked" not in BY_NAME


def test_types_are_the_dtypes_ingest_writes():
    roster = BY_NAME["assistance_roster"].dtypes
    assert roster["event_date"] == roster["admitted_date"] == "datetime64[us]"
    assert roster["monthly_benefit"] == "float64" and roster["person_key"] == "str"
    assert BY_NAME["households"].read_columns == ["person_key", "household_key", "division_code", "relation"]
