"""`lowinc up` end to end on a small region, as a new user runs it (a subprocess): simulate,
ingest, features, train, score, queue and deliver to the local inbox, export the lists; then
the monthly loop again, which must queue and send nothing new."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from tests.integration.regions import small_region_env

pytestmark = pytest.mark.integration


def _lowinc(home, command: str, **extra: str) -> tuple[dict, str]:
    env = small_region_env(home, **extra)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", command, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def up_twice(tmp_path_factory):
    home = tmp_path_factory.mktemp("up")
    first, log = _lowinc(home, "up")
    inbox = sorted(p.name for p in (home / "outreach" / "inbox").glob("*.json"))
    messages = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((home / "outreach" / "inbox").glob("*.json"))
    ]
    notices = [m for m in messages if m["title"].startswith("lowinc: ingest")]
    # the loop again (nothing new was delivered): the demo staff's webhooks still point at the
    # local inbox of the first run, where nothing listens now, so a message queued again would
    # fail to send
    second, log2 = _lowinc(home, "monthly")
    return home, first, second, inbox, log + log2, notices, messages


def test_up_runs_every_stage_of_the_loop(up_twice):
    home, first, _, inbox, _, notices, messages = up_twice
    ingest = first["ingest"]
    assert ingest["months"] == 16
    assert ingest["rows_in"] == ingest["accepted"] + ingest["quarantined"] + ingest["duplicates"] > 1000
    assert first["features"]["snapshots_built"] == 16  # 2022-02-01 .. 2023-05-01
    assert first["train"]["promoted"] and first["train"]["metrics"]["roc_auc"] > 0.5
    score = first["score"]
    assert score["as_of"] == "2023-05-01" and score["households_scored"] > 1000
    assert sum(score["tiers"].values()) == score["households_scored"]
    assert first["queue"]["alerts"] == score["listed"] > 0
    # every message reached the local inbox once: the alerts, the data team's ingest notice, and
    # what monitoring found (a data-quality notice for the data team, a red month's for the owners)
    monitoring = [m for m in messages if m["title"].startswith(("lowinc: data quality", "lowinc: model"))]
    assert first["deliver"]["sent"] + len(notices) + len(monitoring) == len(inbox) > 0
    files = first["exports"]["files"]
    assert files and all(p.endswith(".xlsx") and os.path.exists(p) for p in files)
    assert first["exports"]["without_officer"] == 0 and first["exports"]["list_ready_queued"] == len(files)
    assert (home / "prefect").is_dir() and (home / "mlflow" / "mlflow.db").exists()


def test_the_data_team_hears_of_the_demo_defects_once(up_twice):
    *_, notices, _ = up_twice
    (notice,) = notices  # one ingest, one data-team user, one channel
    text = notice["message"]
    assert "rejected files" in notice["title"] or "missing files" in notice["title"]
    assert not re.search(r"\d{15,18}", text)


def test_running_the_loop_again_queues_and_sends_nothing_new(up_twice):
    home, first, second, inbox, _, _, _ = up_twice
    assert second["ingest"]["months"] == 0 and "train" not in second
    assert second["score"]["tiers"] == first["score"]["tiers"]
    assert second["queue"]["already_queued"] == first["queue"]["alerts"]
    assert second["queue"]["messages"] == 0
    assert second["deliver"]["sent"] == second["deliver"]["failed"] == 0
    assert sorted(p.name for p in (home / "outreach" / "inbox").glob("*.json")) == inbox


def test_up_logs_no_plaintext_id(up_twice):
    *_, log, _, _ = up_twice
    assert "lowinc-monthly" in log
    assert not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", log)


def test_up_makes_the_regions_staff_and_shares_the_visits_among_village_workers(up_twice):
    home, first, *_ = up_twice
    staff = first["staff"]
    logins = home / "secure" / "demo-logins.csv"
    assert staff["logins_file"] == str(logins) and stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert set(staff["by_role"]) == {
        "village_worker",
        "town_officer",
        "county_officer",
        "data_team",
        "model_owner",
    }
    assert staff["by_role"]["county_officer"] == 1 and staff["by_role"]["village_worker"] > 5
    engine = create_engine(f"sqlite:///{home / 'outreach' / 'outreach.db'}")
    with engine.connect() as connection:
        roles = dict(
            connection.execute(
                text(
                    "SELECT u.role, count(*) FROM visit_tasks t JOIN users u ON u.id = t.assignee_id "
                    "GROUP BY u.role"
                )
            ).all()
        )
        unassigned = connection.execute(
            text("SELECT count(*) FROM visit_tasks WHERE assignee_id IS NULL")
        ).scalar()
    engine.dispose()
    assert roles.get("village_worker", 0) > 0 and unassigned == 0, roles


def test_the_town_officers_hear_their_lists_are_ready_once(up_twice):
    home, first, second, *_ = up_twice
    ready = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((home / "outreach" / "inbox").glob("*.json"))
        if json.loads(p.read_text(encoding="utf-8"))["title"].startswith("【名单已生成】")
    ]
    assert len(ready) == len(first["exports"]["files"]) and all("/visits" in m["message"] for m in ready)
    assert second["exports"]["list_ready_queued"] == 0


def test_the_loop_ends_by_monitoring_the_scored_month_into_mlflow(up_twice):
    from mlflow.tracking import MlflowClient

    home, first, second, *_ = up_twice
    assert first["monitor"]["as_of"] == first["score"]["as_of"]
    assert first["monitor"]["status"] in ("green", "amber", "red")
    assert second["monitor"] == first["monitor"]  # the loop again: the same month, the same verdict
    uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for name in ("lowinc-monitoring", "lowinc-risk"):
        assert client.get_experiment_by_name(name).tags["mlflow.experimentKind"] == "custom_model_development"
    experiment = client.get_experiment_by_name("lowinc-monitoring")
    (run,) = client.search_runs([experiment.experiment_id])
    (point,) = client.get_metric_history(run.info.run_id, "score.psi")  # one month, logged once
    assert (
        point.step == 0 and f"{pd.Timestamp(point.timestamp, unit='ms'):%Y-%m-%d}" == first["score"]["as_of"]
    )
    version = client.get_model_version("lowinc-risk", first["train"]["version"])
    assert version.tags["monitoring_status"] == first["monitor"]["status"]
    assert version.description.startswith("# Model card")
    report = home / "reports" / "monitoring" / f"{first['score']['as_of'][:7]}.html"
    assert report.exists() and report.stat().st_mode & 0o077 == 0
