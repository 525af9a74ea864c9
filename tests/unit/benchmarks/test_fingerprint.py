"""The fingerprint's manifest and compare logic on a tiny home (benchmarks.fingerprint)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.fingerprint import compare, main, manifest

SCORES = "scores/as_of=2024-06-01/scores.parquet"
SNAPSHOT = "features/snapshots/as_of=2024-06-01/part-0.parquet"
REPORT = "reports/ingest/2024-05.json"


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_key": ["a1", "b2", "c3"],
            "risk": [0.10, 0.52, 0.31],
            "tier": ["blue", "red", None],
            "months": pd.array([1, None, 3], dtype="Int64"),
        }
    )


def _write(home: Path, relative: str, frame: pd.DataFrame, **options: object) -> None:
    path = home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, **options)  # type: ignore[arg-type]


def _tiny_home(home: Path) -> Path:
    _write(home, SCORES, _frame())
    _write(home, SNAPSHOT, _frame())
    (home / "reports/ingest").mkdir(parents=True)
    report = {"month": "2024-05", "totals": {"rows_in": 3}, "seconds": {"read": 0.4}}
    (home / REPORT).write_text(json.dumps(report))
    (home / "mlflow").mkdir()
    (home / "mlflow/mlflow.db").write_text("run ids and clock times: not an output")
    (home / "scores/as_of=2024-06-01/.scores.parquet.tmp").write_text("a write in progress")
    return home


def test_manifest_covers_outputs_only(tmp_path: Path) -> None:
    found = manifest(_tiny_home(tmp_path))
    assert sorted(found) == sorted([SCORES, SNAPSHOT, REPORT])
    assert all(len(digest) == 64 for digest in found.values())


def test_content_not_bytes(tmp_path: Path) -> None:
    """Another compression, row-group size and key order give the same hashes; a changed
    timing does not count."""
    before = manifest(_tiny_home(tmp_path / "a"))
    other = _tiny_home(tmp_path / "b")
    _write(other, SCORES, _frame(), compression="zstd", row_group_size=1)
    report = {"seconds": {"read": 9.9}, "totals": {"rows_in": 3}, "month": "2024-05"}
    (other / REPORT).write_text(json.dumps(report, indent=2))
    assert compare(manifest(other), before) == {"differ": [], "missing": [], "new": []}


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(risk=[0.10, 0.52, 0.30999]),  # one value of one row
        lambda f: f.assign(tier=["blue", "red", "red"]),  # a null became a value
        lambda f: f.iloc[[1, 0, 2]],  # the same rows in another order
        lambda f: f.iloc[:2],  # a row dropped
        lambda f: f.astype({"months": "float64"}),  # same values, another type
    ],
)
def test_compare_finds_a_changed_row(tmp_path: Path, change: object) -> None:
    reference = manifest(_tiny_home(tmp_path / "a"))
    home = _tiny_home(tmp_path / "b")
    _write(home, SCORES, change(_frame()))  # type: ignore[operator]
    assert compare(manifest(home), reference) == {"differ": [SCORES], "missing": [], "new": []}


def test_sort_ignores_row_order_only(tmp_path: Path) -> None:
    reference = manifest(_tiny_home(tmp_path / "a"), sort=True)
    home = _tiny_home(tmp_path / "b")
    _write(home, SCORES, _frame().iloc[[2, 0, 1]])
    assert compare(manifest(home, sort=True), reference)["differ"] == []
    _write(home, SCORES, _frame().iloc[[2, 0, 1]].assign(risk=[0.3, 0.1, 0.5]))
    assert compare(manifest(home, sort=True), reference)["differ"] == [SCORES]


def test_command_line_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out writes the manifest; --compare exits 1 and names each changed, missing and new path."""
    out = tmp_path / "before.json"
    home = _tiny_home(tmp_path / "home")
    assert main(["--home", str(home), "--out", str(out)]) == 0
    assert main(["--home", str(home), "--compare", str(out)]) == 0
    _write(home, SCORES, _frame().assign(risk=[0.1, 0.5, 0.3]))
    (home / SNAPSHOT).unlink()
    _write(home, "scores/as_of=2024-06-01/visit_list.parquet", _frame())
    capsys.readouterr()
    assert main(["--home", str(home), "--compare", str(out)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"differ: {SCORES}",
        f"missing: {SNAPSHOT}",
        "new: scores/as_of=2024-06-01/visit_list.parquet",
    ]
