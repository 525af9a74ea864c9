"""`lowinc up` end to end on a tiny region, as a new user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def up_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("up")
    env = {
        **os.environ,
        "LOWINC_HOME": str(home),
        "LOWINC_SIMULATION__HOUSEHOLDS": "600",
        "LOWINC_SIMULATION__MONTHS": "3",
        "LOWINC_SIMULATION__COUNTY": "330503",
        "LOWINC_SIMULATION__MC_MONTHS": "[]",
    }
    env.pop("PREFECT_HOME", None)
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "up", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return home, json.loads(done.stdout), done.stderr


def test_up_simulates_then_ingests_every_month_through_prefect(up_run):
    home, result, _ = up_run
    assert result["simulate"]["households_start"] == 600
    ingest = result["ingest"]
    assert ingest["months"] == 3
    assert ingest["rows_in"] == ingest["accepted"] + ingest["quarantined"] + ingest["duplicates"] > 1000
    reported = sorted(p.stem for p in (home / "reports" / "ingest").glob("*.json"))
    assert len(reported) == 3 and [reported[0], reported[-1]] == result["simulate"]["months"]
    assert (home / "prefect").is_dir()  # Prefect's state stays in the project home


def test_up_logs_no_plaintext_id(up_run):
    import re

    _, _, stderr = up_run
    assert "lowinc-loop" in stderr or "Finished in state Completed" in stderr
    assert not re.search(r"\d{17}[\dXx]", stderr)
