"""The simulator end to end: the default region's files, truth, rates and determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lowinc import idno
from pipelines.settings import load_settings
from simulator.contract import FILES, SPECS
from simulator.population import OTHER_PROVINCE_AREAS
from simulator.simulation import simulate
from tests.unit.simulator.test_defects import detect, read_rows

pytestmark = pytest.mark.integration
SOURCES = {"hukou", "civil_affairs", "medical", "employment", "disability", "housing"}


@pytest.fixture(scope="module")
def default_region(tmp_path_factory) -> tuple[Path, dict]:
    """The embedded default region (configs/simulation.yaml), as `lowinc up` makes it."""
    home = tmp_path_factory.mktemp("default")
    settings = load_settings(home=home)
    return home, simulate(settings)


def small(home: Path, seed: int = 11) -> dict:
    settings = load_settings(
        home=home,
        simulation={
            "households": 800,
            "months": 4,
            "start": "2023-01",
            "seed": seed,
            "burn_in_months": 2,
            "mc_households": 50,
            "mc_paths": 20,
            "mc_months": ["2023-03"],
        },
    )
    return simulate(settings)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_default_base_rates_land_in_the_domain_ranges(default_region):
    _, summary = default_region
    assert summary["rates_in_range"], "no rates computed"
    bad = {k: summary["rates"][k] for k, ok in summary["rates_in_range"].items() if not ok}
    assert not bad, f"out of range: {bad} (expected {summary['expected']})"


def test_every_delivered_file_reads_with_the_contract_encoding_and_header(default_region):
    home, _ = default_region
    raw = home / "raw"
    manifest = pd.read_csv(home / "truth" / "defects_manifest.csv", dtype=str)
    file_defects = manifest[manifest["row"].isna()]
    drifted = set(
        file_defects.loc[
            file_defects["kind"].isin(
                ["column_added", "column_renamed", "column_reordered", "wrong_encoding", "delivered_twice"]
            ),
            "file",
        ]
    )
    assert {p.name for p in raw.iterdir()} == SOURCES
    checked = 0
    for spec in FILES:
        for path in sorted(raw.glob(f"{spec.source}/*/{spec.name}")):
            rel = path.relative_to(raw).as_posix()
            if rel in drifted:
                continue
            frame = read_rows(path, spec)
            assert list(frame.columns) == list(spec.column_names), rel
            checked += 1
    assert checked > 300


def test_every_month_delivers_every_file_unless_the_manifest_says_missing(default_region):
    home, summary = default_region
    manifest = pd.read_csv(home / "truth" / "defects_manifest.csv", dtype=str)
    missing = set(manifest.loc[manifest["kind"] == "month_missing", "file"])
    months = pd.period_range(summary["months"][0], summary["months"][1], freq="M").strftime("%Y-%m")
    for spec in FILES:
        for m in months[:1] if spec.first_month_only else months:
            rel = f"{spec.source}/{m}/{spec.name}"
            assert (home / "raw" / rel).exists() != (rel in missing), rel


def test_clean_ids_are_valid_with_county_birth_date_and_sex(default_region):
    home, _ = default_region
    spec = SPECS["hukou/户籍人口_全量.csv"]
    path = next((home / "raw" / "hukou").glob(f"*/{spec.name}"))
    base = read_rows(path, spec)
    manifest = pd.read_csv(home / "truth" / "defects_manifest.csv", dtype=str)
    spoiled = manifest[manifest["file"] == path.relative_to(home / "raw").as_posix()]["row"].astype(int)
    clean = base.drop(index=spoiled - 1)
    ids = clean["公民身份号码"].to_numpy()
    assert idno.valid_vec(ids.astype("S18")).all()
    # born in 湖州市's counties, or moved in from elsewhere (their IDs keep their birthplace)
    areas = {i[:6] for i in ids}
    assert {a for a in areas if a.startswith("3305")} and areas <= {
        a for a in areas if a.startswith("3305")
    } | set(OTHER_PROVINCE_AREAS)
    assert (clean["出生日期"].str.slice(0, 8) == clean["公民身份号码"].str.slice(6, 14)).all()
    odd = clean["公民身份号码"].str.slice(16, 17).astype(int) % 2 == 1
    assert (odd == (clean["性别"] == "男")).all()
    assert clean["公民身份号码"].is_unique


def test_defects_in_real_files_equal_the_manifest(default_region):
    """Row defects found independently in delivered files match the manifest exactly."""
    home, summary = default_region
    raw = home / "raw"
    manifest = pd.read_csv(home / "truth" / "defects_manifest.csv", dtype={"row": "Int64"})
    registry = set()
    for path in sorted(raw.glob("hukou/*/*.csv")):
        try:
            hukou = pd.read_csv(path, encoding="gb18030", dtype=str)
        except UnicodeDecodeError:  # a file delivered in the wrong encoding
            hukou = pd.read_csv(path, encoding="utf-8", dtype=str)
        registry |= set(hukou.filter(regex="身份").iloc[:, 0])
    month = summary["months"][0][:5] + "06"
    for key in ("medical/医保结算明细.csv", "employment/就业失业登记.csv", "civil_affairs/临时救助.csv"):
        spec = SPECS[key]
        rel = f"{spec.source}/{month}/{spec.name}"
        if not (raw / rel).exists():
            continue
        frame = read_rows(raw / rel, spec)
        mine = manifest[(manifest["file"] == rel) & manifest["row"].notna()]
        # a duplicate is a copy of its original, defects included: it counts once, as a duplicate
        copies = set(mine.loc[mine["kind"] == "duplicate_row", "row"].astype(int))
        found = {
            (r, k)
            for r, k, _ in detect(frame, spec)
            if k != "not_in_hukou" and (r not in copies or k == "duplicate_row")
        }
        expected = set(zip(mine["row"].astype(int), mine["kind"], strict=True))
        outsiders = {r for r, k in expected if k == "not_in_hukou"}
        assert found == {e for e in expected if e[1] != "not_in_hukou"}, rel
        # people outside the registry: well-formed IDs the hukou never listed. A few more than
        # injected show up: people whose own hukou row carried an ID defect, or arrived in a
        # hukou file that went missing that month.
        ids = frame[spec.person_id].astype(str)
        ascii_ids = ids.where(ids.str.isascii() & (ids.str.len() <= 20), "")
        ok = idno.valid_vec(ascii_ids.to_numpy().astype("S20"))
        outside = {int(i) + 1 for i in np.flatnonzero(ok & ~ids.isin(registry).to_numpy())}
        assert outsiders <= outside, rel
        assert len(outside - outsiders - copies) <= 3 + 0.03 * len(frame), rel


def test_truth_is_written_beside_raw_never_inside(default_region):
    home, summary = default_region
    raw, truth = home / "raw", home / "truth"
    assert not truth.resolve().is_relative_to(raw.resolve())
    assert not any(
        p.name in {"summary.json", "defects_manifest.csv"} or "truth" in p.parts for p in raw.rglob("*")
    )
    frame = pd.read_parquet(truth / "household_month" / f"{summary['months'][0]}.parquet")
    assert {"per_capita_income", "rigid_expenditure", "dibao_standard", "in_poverty", "applied"} <= set(
        frame.columns
    )
    probs = pd.read_parquet(truth / "fall_probability.parquet")
    assert probs["p_fall"].between(0, 1).all() and len(probs) > 0


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    small(tmp_path / "a")
    small(tmp_path / "b")
    small(tmp_path / "c", seed=12)
    a, b, c = (tree_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert a != c


def test_a_factory_closure_raises_unemployment_registrations(tmp_path):
    def registrations(home: Path, scenarios: list) -> int:
        settings = load_settings(
            home=home,
            simulation={
                "households": 1500,
                "months": 3,
                "start": "2023-01",
                "burn_in_months": 1,
                "mc_months": [],
                "scenarios": scenarios,
            },
        )
        simulate(settings)
        f = pd.read_csv(home / "raw/employment/2023-02/就业失业登记.csv", dtype=str)
        return int((f["登记类型"] == "失业登记").sum())

    base = registrations(tmp_path / "base", [])
    shock = registrations(tmp_path / "shock", [{"kind": "factory_closure", "start": "2023-02", "share": 0.3}])
    assert shock > 3 * max(base, 1)


def test_cli_json_summary_is_one_document_on_stdout(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "LOWINC_HOME": str(tmp_path), "LOWINC_SIMULATION__MC_MONTHS": "[]"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "simulate",
            "--households",
            "400",
            "--months",
            "2",
            "--start",
            "2023-01",
            "--county",
            "330503",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    summary = json.loads(done.stdout)
    assert summary["households_start"] == 400
    assert summary["months"] == ["2023-01", "2023-02"]
    codes = pd.read_csv(tmp_path / "raw/hukou/2023-01/户籍人口_全量.csv", encoding="gb18030", dtype=str)[
        "区划代码"
    ]
    assert codes.str.startswith("330503").all()  # 南浔区 only
    assert (tmp_path / "truth" / "summary.json").exists()
