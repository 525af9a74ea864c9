"""Errors a user can cause, through the real ``lowinc`` entry point in a subprocess: one line on
stderr saying what is wrong and what to run, exit code 2, no traceback; with ``--debug`` the
traceback appears."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from features import store

REPO = Path(__file__).resolve().parents[3]


def lowinc(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOWINC_", "PREFECT_"))}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=REPO,
        env=clean | {"LOWINC_HOME": str(home), "PREFECT_HOME": str(home.parent / "prefect"), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The error line, after checking the exit code and that it is the one error line on stderr,
    the last (a library may log before it: MLflow creating its database), with no traceback."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and sum(line.startswith("error") for line in lines) == 1
    assert "Traceback" not in done.stderr, done.stderr
    return lines[-1]


@pytest.fixture
def one_snapshot(tmp_path) -> Path:
    """A home with four months ingested but one feature snapshot, its labels complete."""
    home = tmp_path / "home"
    reports = home / "reports" / "ingest"
    reports.mkdir(parents=True)
    for month in ("2022-01", "2022-02", "2022-03", "2022-04"):
        (reports / f"{month}.json").write_text("{}\n")
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2022-02-01"),
            "county_code": ["330503", "330503"],
            "household_key": ["a" * 32, "b" * 32],
            "in_cohort": [True, True],
            "label_complete": [True, True],
            "label": [False, True],
        }
    )
    store.write_snapshot(home, pd.Timestamp("2022-02-01"), frame, None)
    return home


def test_train_with_too_few_complete_snapshots_says_which_features_to_build(one_snapshot):
    line = one_line_error(lowinc(one_snapshot, "train"))
    assert "1 complete snapshots, fewer than test_months=3" in line
    assert "lowinc features --from 2022-02-01 --to 2022-05-01" in line


def test_debug_shows_the_traceback(one_snapshot):
    for args in (("--debug", "train"), ("train", "--debug")):
        done = lowinc(one_snapshot, *args)
        assert done.returncode != 0 and "Traceback" in done.stderr and "NotEnoughHistory" in done.stderr


@pytest.mark.parametrize(
    ("args", "says", "run"),
    [
        (("train",), "no feature snapshots under", "lowinc ingest --all"),
        (("score",), "no feature snapshot yet", "lowinc features"),
        (("score", "--as-of", "2024-13-01"), "--as-of '2024-13-01' is not a date", "YYYY-MM-DD"),
        (("score", "--as-of", "2024-03-05"), "not the 1st of a month", "--as-of 2024-03-01"),
        (("score", "--as-of", "2024-03-01"), "no feature snapshot for 2024-03-01", "lowinc features --as-of"),
        (
            ("features", "--as-of", "2024-03-01"),
            "needs the deliveries of 2024-02",
            "lowinc ingest --month 2024-02",
        ),
        (("features", "--from", "2024-03-01"), "give one as-of date or a range", "--from and --to"),
        (("features", "--from", "2024-04-01", "--to", "2024-03-01"), "is before --from", "--from before"),
        (("ingest",), "give a delivery month or --all", "lowinc ingest --month"),
        (("ingest", "--month", "2024-13"), "--month 2024-13: month 13 is not 01-12", "YYYY-MM"),
        (("ingest", "--all"), "no delivery month folder (YYYY-MM) under", "lowinc simulate"),
        (("model", "rollback"), "no model lowinc-risk registered yet", "lowinc train"),
        (("monitor",), "no scored month to monitor yet", "lowinc score"),
        (("monitor", "--as-of", "2024-02-30"), "is not a date", "YYYY-MM-DD"),
        (("monitor", "--as-of", "2024-03-01"), "no scores for 2024-03-01", "lowinc score --as-of 2024-03-01"),
        (
            ("explain",),
            "name the household once: --household KEY, --alert N or --code",
            "lowinc explain --help",
        ),
        (("nosuch",), "No such command 'nosuch'", "lowinc --help"),
        (("simulate", "--city", "北京市"), "no villages for city='北京市'", "lowinc simulate --city"),
        (("simulate", "--start", "2024-13"), "simulation.start: month must be YYYY-MM", "LOWINC_"),
        (("lists", "export", "--town", "330503001", "--as-of", "2024-02-30"), "is not a date", "YYYY-MM-DD"),
        (("alerts", "queue", "--visit-list", "/nonexistent.parquet"), "no such file", "--visit-list"),
    ],
)
def test_each_user_error_is_one_line_with_what_to_run(tmp_path, args, says, run):
    line = one_line_error(lowinc(tmp_path / "home", *args))
    assert says in line and "(run: " in line and run in line.split("(run: ", 1)[1], line


def test_a_bad_configuration_value_is_one_line_naming_the_setting(tmp_path):
    line = one_line_error(lowinc(tmp_path / "home", "config", LOWINC_OUTREACH__COOLDOWN_DAYS="-3"))
    assert "invalid configuration: outreach.cooldown_days" in line and "lowinc config" in line


def test_a_configuration_folder_without_source_definitions_is_refused(tmp_path):
    """Sources follow LOWINC_CONFIG_DIR: an empty one is not read as 'no deliveries'."""
    (tmp_path / "etc").mkdir()
    line = one_line_error(
        lowinc(tmp_path / "home", "ingest", "--month", "2024-01", LOWINC_CONFIG_DIR=str(tmp_path / "etc"))
    )
    assert f"no department source definitions (*.yaml) in {tmp_path / 'etc' / 'sources'}" in line


def test_deploy_without_a_prefect_server_says_how_to_start_one(tmp_path):
    line = one_line_error(lowinc(tmp_path / "home", "deploy"))
    assert "PREFECT_API_URL" in line and "prefect server start" in line
