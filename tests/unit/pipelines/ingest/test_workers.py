"""The table workers: work dealt by its size, and worker processes that give what one
process gives (they really run elsewhere: a fault planted here does not reach them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import delivery
from lowinc.home import HomeLayout
from lowinc.settings import DEFAULT_CONFIG_DIR
from lowinc.sources import load_sources
from pipelines.ingest import workers
from pipelines.ingest.workers import assign, ingest_with_workers, worker_count
from tests.unit.ingest.factory import (
    HUKOU_HEADER,
    MEDICAL_HEADER,
    hukou_rows,
    make_id,
    medical_row,
    write_csv,
)

KEY = b"test-pseudonym-key"
MONTHS = ["2023-03", "2023-04"]


def test_the_largest_work_goes_first_each_to_the_least_loaded_worker():
    work = {"pension": 50.0, "medical": 20.0, "roster": 15.0, "hukou": 12.0, "housing": 1.0}
    got = assign(work, 2)
    assert got["pension"] != got["medical"]
    loads = [sum(w for t, w in work.items() if got[t] == i) for i in range(2)]
    assert loads == [50.0, 48.0]
    assert set(assign(work, 1).values()) == {0}


def test_workers_default_to_one_per_core_and_never_exceed_the_sources(monkeypatch):
    assert worker_count(3, 6) == 3
    assert worker_count(8, 2) == 2
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 4)
    assert worker_count(0, 100) == 4
    assert worker_count(0, 3) == 3
    monkeypatch.setattr(workers.os, "cpu_count", lambda: None)  # unknown: one
    assert worker_count(0, 100) == 1


def _deliver(home: Path) -> HomeLayout:
    """Two months of two sources; the second month re-sends a settlement of the first (a
    duplicate only when the months run in order)."""
    paths = HomeLayout(home)
    write_csv(paths.raw / "hukou" / MONTHS[0] / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    head, other = make_id(seq="011"), make_id(seq="022")
    months = {MONTHS[0]: [medical_row("S1", head), medical_row("S2", other)]}
    months[MONTHS[1]] = [medical_row("S1", head), medical_row("S3", other, total="999")]
    for month, rows in months.items():
        write_csv(paths.raw / "medical" / month / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")
    return paths


def _written(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for folder in ("canonical", "quarantine", "secure/identity", "reports")
        for p in sorted((home / folder).rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sources():
    everything = load_sources(DEFAULT_CONFIG_DIR / "sources")
    return {name: everything[name] for name in ("hukou", "medical")}


def test_worker_processes_give_what_one_process_gives(tmp_path, sources, monkeypatch):
    alone = _deliver(tmp_path / "one")
    reports_alone = ingest_with_workers(MONTHS, alone, sources, KEY, workers=1)
    pooled = _deliver(tmp_path / "two")

    def planted(*args: object, **kwargs: object) -> list:
        raise AssertionError("a table ingested in this process")

    monkeypatch.setattr(delivery, "ingest_table", planted)  # only this process sees it
    reports_pooled = ingest_with_workers(MONTHS, pooled, sources, KEY, workers=2)
    assert [r.to_dict() for r in reports_pooled] == [r.to_dict() for r in reports_alone]
    medical = {r.month: f for r in reports_pooled for f in r.files if f.table == "medical_settlements"}
    assert medical[MONTHS[1]].duplicates == 1  # S1 again: the months ran in order
    written = _written(alone.root)
    assert len(written) > 5 and written == _written(pooled.root)


def test_a_table_that_fails_in_this_process_is_rejected_by_name(tmp_path, sources, monkeypatch):
    paths = _deliver(tmp_path)

    def lost(*args: object, **kwargs: object) -> list:
        raise MemoryError

    monkeypatch.setattr(delivery, "ingest_table", lost)
    first, _ = ingest_with_workers(MONTHS, paths, sources, KEY, workers=1)
    got = {f.file: (f.status, f.message) for f in first.files}
    assert got["医保结算明细.csv"][0] == "rejected" and "MemoryError" in got["医保结算明细.csv"][1]
    assert got["户籍人口_全量.csv"][0] == "rejected"
