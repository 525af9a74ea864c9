"""Ingest on real simulator output, checked row by row against the defect manifest.

A small region is simulated with high file-level defect rates (so renamed, added and
reordered columns, wrong encodings, missing months and files delivered twice all occur),
then every month is ingested with the plain functions (no Prefect).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from ingest import delivery, store
from ingest.tables import EXTRAS_TABLE
from lowinc.home import HomeLayout
from pipelines.ingest.workers import ingest_with_workers
from pipelines.settings import load_settings
from simulator.simulation import simulate

pytestmark = pytest.mark.integration

QUARANTINE_KINDS = {
    "id_bad_check_digit",
    "id_empty",
    "date_impossible",
    "date_future",
    "money_negative",
    "money_parts_mismatch",
    "unknown_category",
}
REPAIRABLE_KINDS = {
    "id_15_digit",
    "id_lowercase_x",
    "id_full_width",
    "id_spaces",
    "money_formatted",
    "date_other_format",
}
SOURCES_DIR = Path(__file__).resolve().parents[2] / "configs" / "sources"
ID_RUN = re.compile(r"\d{17}[\dXx]")


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    home = tmp_path_factory.mktemp("simulated")
    settings = load_settings(
        home=home,
        simulation={
            "households": 1500,
            "months": 4,
            "start": "2023-01",
            "burn_in_months": 3,
            "mc_months": [],
            "defects": {
                "date_other_format": 0.01,
                "money_formatted": 0.01,
                "column_added": 0.2,
                "column_renamed": 0.4,
                "column_reordered": 0.2,
                "wrong_encoding": 0.25,
                "month_missing": 0.2,
                "delivered_twice": 0.25,
            },
        },
    )
    simulate(settings)
    paths = HomeLayout(home)
    sources = delivery.sources_from(SOURCES_DIR)
    key = b"integration-test-key"
    reports = {m: delivery.ingest_month(m, paths, sources, key) for m in delivery.delivered_months(paths.raw)}
    manifest = pd.read_csv(home / "truth" / "defects_manifest.csv", dtype=str, keep_default_na=False)
    files = {}
    for month, rep in reports.items():
        for f in rep.files:
            files[f"{f.source}/{month}/{f.file}"] = f
    return home, paths, manifest, files


def _row_kinds(manifest: pd.DataFrame) -> dict[str, dict[int, set[str]]]:
    out: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for file, row, kind in manifest.loc[manifest["row"] != "", ["file", "row", "kind"]].itertuples(
        index=False
    ):
        out[file][int(row)].add(kind)
    return out


def _file_kinds(manifest: pd.DataFrame, kind: str) -> list[str]:
    return manifest.loc[(manifest["row"] == "") & (manifest["kind"] == kind), "file"].tolist()


def _quarantined_rows(paths: HomeLayout) -> dict[str, pd.DataFrame]:
    out = {}
    for table_dir in paths.quarantine.iterdir():
        if table_dir.name == EXTRAS_TABLE:
            continue
        frame = store.read_partitions(paths.quarantine, table_dir.name)
        for (source, month, file), part in frame.groupby(["source", "known_month", "file"]):
            out[f"{source}/{month}/{file}"] = part
    return out


def _canonical_rows(paths: HomeLayout) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    sources = delivery.sources_from(SOURCES_DIR)
    for src in sources.values():
        for spec in src.files:
            frame = store.read_partitions(paths.canonical, spec.table)
            if frame.empty:
                continue
            for (month, file), part in frame.groupby(["known_month", "source_file"]):
                out[f"{src.source}/{month}/{file}"] |= set(part["row_number"].astype(int))
    return out


def test_every_file_accounts_for_every_row(region):
    _, _, _, files = region
    ingested = [f for f in files.values() if f.status == "ingested"]
    assert len(ingested) > 30
    for name, f in files.items():
        assert f.rows_in == f.accepted + f.quarantined + f.duplicates, name


def test_quarantine_is_exactly_the_manifest_rows(region):
    _, paths, manifest, files = region
    kinds = _row_kinds(manifest)
    quarantined = _quarantined_rows(paths)
    checked = 0
    for name, f in files.items():
        if f.status != "ingested":
            continue
        want = {r for r, ks in kinds.get(name, {}).items() if ks & QUARANTINE_KINDS}
        q = quarantined.get(name, pd.DataFrame(columns=["row_number", "reason"]))
        got = set(q["row_number"].astype(int))
        assert got == want, (name, sorted(got - want), sorted(want - got))
        assert f.quarantined == len(want), name
        file_name = name.rsplit("/", 1)[1]
        for row, reason in q[["row_number", "reason"]].itertuples(index=False):
            assert file_name in reason and f"row {row}" in reason, reason
        checked += len(want)
    assert checked > 20


def test_repairable_rows_are_accepted(region):
    _, paths, manifest, files = region
    kinds = _row_kinds(manifest)
    accepted = _canonical_rows(paths)
    seen = defaultdict(int)
    for name, f in files.items():
        if f.status != "ingested":
            continue
        for row, ks in kinds.get(name, {}).items():
            if ks & REPAIRABLE_KINDS and not ks & (QUARANTINE_KINDS | {"duplicate_row"}):
                assert row in accepted[name], (name, row, ks)
                for k in ks & REPAIRABLE_KINDS:
                    seen[k] += 1
    assert set(seen) == REPAIRABLE_KINDS, seen


def test_duplicate_rows_and_second_deliveries_are_counted_as_duplicates(region):
    _, _, manifest, files = region
    kinds = _row_kinds(manifest)
    twice = set(_file_kinds(manifest, "delivered_twice"))
    assert twice, "the simulation should deliver some file twice"
    total = 0
    for name, f in files.items():
        if f.status != "ingested":
            continue
        if name in twice:
            assert f.duplicates == f.rows_in and f.accepted == 0, name
            continue
        dups = sum("duplicate_row" in ks for ks in kinds.get(name, {}).values())
        assert f.duplicates == dups, name
        total += dups
    assert total > 5


def test_file_level_defects_are_reported(region):
    _, _, manifest, files = region
    wrong = _file_kinds(manifest, "wrong_encoding")
    assert wrong, "the simulation should deliver a file in the wrong encoding"
    for name in wrong:
        f = files[name]
        assert f.status == "rejected", name
        assert "encoding" in f.message and "GB18030" in f.message.upper(), f.message
    for name in _file_kinds(manifest, "column_renamed"):
        assert files[name].status in ("ingested", "rejected"), name
        if name not in wrong:
            assert files[name].status == "ingested", (name, files[name].message)
            assert any("by alias" in n for n in files[name].notes), files[name].notes
    for name in _file_kinds(manifest, "column_added"):
        if name not in wrong:
            assert files[name].extra_columns, name
    missing = _file_kinds(manifest, "month_missing")
    assert missing
    for name in missing:
        source, month, _ = name.split("/")
        assert any(k.startswith(f"{source}/{month}/") and f.status == "missing" for k, f in files.items()), (
            name
        )


def test_no_plaintext_id_reaches_a_canonical_table(region):
    home, paths, _, _ = region
    ids: set[str] = set()
    for path in (home / "raw").rglob("*"):
        if path.suffix == ".csv":
            ids |= set(ID_RUN.findall(path.read_bytes().decode("latin-1")))
        elif path.suffix in (".xlsx", ".parquet"):
            frame = pd.read_excel(path, header=None, dtype=str) if path.suffix == ".xlsx" else None
            if frame is None:
                frame = pd.read_parquet(path).astype("str")
            for col in frame.columns:
                ids |= set(frame[col].dropna().str.extract(f"({ID_RUN.pattern})")[0].dropna())
    identity = store.read_partitions(paths.identity, "hukou_base")
    ids |= set(identity["id_no"].dropna())
    ids = {i.upper() for i in ids} | ids
    assert len(ids) > 1000
    for part in paths.canonical.rglob("*.parquet"):
        frame = pd.read_parquet(part)
        for col in frame.columns:
            if frame[col].dtype.kind in "OUT" or str(frame[col].dtype) in ("str", "string"):
                found = frame[col].dropna().astype("str").str.extractall(f"({ID_RUN.pattern})")
                leaked = set(found[0]) & ids if len(found) else set()
                assert not leaked, (part, col, sorted(leaked)[:3])


def _outputs(home: Path) -> list[Path]:
    """Every file ingest wrote under a home (not the key it made)."""
    found = (p.relative_to(home) for p in home.rglob("*") if p.is_file())
    return sorted(p for p in found if p.parts[0] in OUTPUT_FOLDERS and p.name != "pseudonym.key")


OUTPUT_FOLDERS = ("canonical", "quarantine", "secure", "reports")


def test_worker_processes_write_the_same_files_as_one_process(region, tmp_path):
    home, paths, _, _ = region
    (tmp_path / "raw").symlink_to(paths.raw)
    months = delivery.delivered_months(paths.raw)
    sources = delivery.sources_from(SOURCES_DIR)
    ingest_with_workers(months, HomeLayout(tmp_path), sources, b"integration-test-key", workers=2)
    written = _outputs(home)
    assert len(written) > 50 and written == _outputs(tmp_path)
    for rel in written:
        assert (home / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
