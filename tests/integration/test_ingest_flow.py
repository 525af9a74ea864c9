"""The ingest flow under a real (temporary) Prefect server: wiring only, logic is unit-tested.

Prefect and the flow are imported inside the tests, after the harness fixture has set the
environment Prefect reads when it is first imported (its analytics off)."""

import json
import os
import re

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from lowinc.errors import UserError
from outreach.inbox import LocalInbox
from pipelines.ingest import orchestration
from pipelines.ingest.cli import register
from pipelines.notify import FAILURE_HOOKS
from pipelines.retries import unless_user_error
from tests.outreach.receivers import HttpReceiver
from tests.outreach.test_ingest_notice import assert_is_the_notice, data_team_on, deliver_demo_defects
from tests.unit.ingest.factory import (
    HUKOU_HEADER,
    MEDICAL_HEADER,
    hukou_rows,
    make_id,
    medical_row,
    write_csv,
)

pytestmark = pytest.mark.integration
MONTH = "2023-03"


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _deliver(home):
    raw = home / "raw"
    write_csv(raw / "hukou" / MONTH / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    rows = [medical_row("S1", make_id(seq="011")), medical_row("S2", make_id(seq="012"))]
    rows[1][-1] = "-1"
    write_csv(raw / "medical" / MONTH / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")


def test_ingest_flow_runs_a_task_per_source_and_writes_the_report(harness, tmp_path, monkeypatch):
    from pipelines.ingest.flow import ingest_flow

    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "integration-key")
    _deliver(tmp_path)
    (report,) = ingest_flow(month=MONTH)
    files = {f["file"]: f for f in report["files"]}
    assert files["户籍人口_全量.csv"]["accepted"] == 3
    assert files["医保结算明细.csv"]["quarantined"] == 1
    assert (tmp_path / "reports" / "ingest" / f"{MONTH}.json").exists()
    # the index of each person's latest identity row answers for the next month
    from ingest import people_index
    from lowinc.home import HomeLayout

    layout = HomeLayout(tmp_path)
    index = pd.read_parquet(people_index.index_path(layout))
    assert len(index) >= 3 and index["person_key"].is_unique and set(index["known_month"]) == {MONTH}
    next_month = f"{pd.Period(MONTH, 'M') + 1}"
    assert people_index.lookup(layout, index["person_key"].tolist(), next_month) is not None


def test_the_flow_runs_the_one_orchestration_with_a_task_run_per_source(harness, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client

    from pipelines.ingest.flow import ingest_flow

    calls = []
    real = orchestration.ingest_months

    def spy(months, paths, sources, submit, finish, on_month=None):
        calls.append(months)
        return real(months, paths, sources, submit, finish, on_month)

    monkeypatch.setattr(orchestration, "ingest_months", spy)
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "integration-key")
    _deliver(tmp_path)
    (report,) = ingest_flow(month=MONTH)
    assert calls == [[MONTH]]
    assert {f["file"]: f["accepted"] for f in report["files"]}["户籍人口_全量.csv"] == 3
    with get_client(sync_client=True) as client:
        names = {t.name for t in client.read_task_runs(limit=200)}
    assert {f"ingest-hukou-{MONTH}", f"ingest-medical-{MONTH}", f"ingest-finish-{MONTH}"} <= names
    assert any(n.startswith("people-index") for n in names)


def test_cli_ingest_json_prints_one_record_per_file(tmp_path, monkeypatch):
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `ingest` a subcommand
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "integration-key")
    _deliver(tmp_path)
    result = CliRunner().invoke(app, ["ingest", "--month", MONTH, "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    med = next(r for r in records if r["file"] == "医保结算明细.csv")
    assert med["rows_in"] == med["accepted"] + med["quarantined"] + med["duplicates"] == 2
    assert med["quarantined_by_reason"] == {"money_negative": 1, "sum_mismatch": 1}


def test_prefect_logs_and_artifacts_carry_no_plaintext_id_or_name(harness, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, TaskRunFilter
    from prefect.client.schemas.sorting import ArtifactSort

    from pipelines.ingest.flow import ingest_flow

    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "integration-key")
    _deliver(tmp_path)
    from prefect.logging.handlers import APILogHandler

    ingest_flow(month=MONTH)
    APILogHandler().flush()  # logs are sent in batches
    with get_client(sync_client=True) as client:
        logs = [log.message for log in client.read_logs(limit=200, offset=0)]
        artifacts = [
            str(a.data)
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(),
                flow_run_filter=FlowRunFilter(),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=200,
                offset=0,
            )
        ]
    assert logs and any(f"ingest-report-{MONTH}" in a or "医保结算明细.csv" in a for a in artifacts)
    text = "\n".join(logs + artifacts)
    assert not re.search(r"\d{17}[\dXx]|\d{15}", text)
    assert "张三" not in text and make_id(seq="011") not in text


def test_a_failed_flow_notifies_the_data_team(harness, tmp_path, monkeypatch):
    from prefect import flow

    @flow(name="doomed", **FAILURE_HOOKS)
    def doomed() -> None:
        raise RuntimeError("raw/medical/2023-03 is unreadable")

    with LocalInbox(tmp_path / "inbox") as inbox:
        team = [{"name": "数据组", "role": "data_team", "addresses": {"webhook": f"{inbox.url}/team"}}]
        monkeypatch.setenv("LOWINC_OUTREACH__USERS", json.dumps(team, ensure_ascii=False))
        monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))  # the hook's outreach database
        with pytest.raises(RuntimeError):
            doomed()
        (message,) = inbox.messages()
    text = message.read_text(encoding="utf-8")
    assert "doomed" in text and "Failed" in text and "unreadable" in text


def test_the_ingest_flow_tells_the_data_team_what_to_fix_once(harness, tmp_path, monkeypatch):
    from pipelines.ingest.flow import ingest_flow

    webhook = HttpReceiver().start()
    try:
        data_team_on(monkeypatch, webhook, tmp_path)
        deliver_demo_defects(tmp_path)
        ingest_flow(month=MONTH)
        (notice,) = webhook.received
        assert notice.path == "/team"
        assert_is_the_notice(notice.body["message"])
        ingest_flow(month=MONTH)  # re-run: the same notice is not sent twice
        assert len(webhook.received) == 1
    finally:
        webhook.stop()


def test_the_ingest_flow_refuses_a_month_that_is_not_one(harness, tmp_path, monkeypatch):
    from pipelines.ingest.flow import ingest_flow

    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    with pytest.raises(UserError, match="month 13"):
        ingest_flow(month="2022-13")
    assert not (tmp_path / "reports").exists() and not (tmp_path / "canonical").exists()


def test_a_users_mistake_fails_a_task_at_once_other_errors_are_retried(harness):
    from prefect import flow, task

    attempts: list[str] = []

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=unless_user_error)
    def flaky(error: Exception) -> None:
        attempts.append(type(error).__name__)
        raise error

    @flow
    def run_once(error: Exception) -> None:
        flaky(error)

    with pytest.raises(UserError):
        run_once(UserError("user 王芳: unknown division code", hint="fix outreach.users"))
    assert attempts == ["UserError"]  # the same mistake three times would only delay the one line
    attempts.clear()
    with pytest.raises(OSError):
        run_once(OSError("the file share hiccupped"))
    assert attempts == ["OSError"] * 3
