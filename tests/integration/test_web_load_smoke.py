"""The load benchmark's smoke variant runs end to end on both backends (not in CI: benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.benchmark
def test_the_web_load_smoke_variant_runs_in_under_a_minute() -> None:
    command = [sys.executable, "-m", "benchmarks.web_load", "--households", "20000", "--users", "20"]
    command += ["--seconds", "5", "--warmup", "3"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert any(line.startswith("| sqlite ") and " all " in line for line in table)
    assert any(line.startswith("| postgresql ") and " all " in line for line in table)
    for line in table[1:]:
        assert line.rstrip(" |").split("|")[-1].strip() == "0", line  # no errors
