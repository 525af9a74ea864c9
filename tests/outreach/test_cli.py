"""The command line end to end on the embedded SQLite default, against real receivers."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from typer.testing import CliRunner

from pipelines.alerts.cli import register
from pipelines.cli import main
from tests.outreach.factory import TOWN_A, heads, make_config, visit_list

pytestmark = pytest.mark.integration
TIERS = {0: "red", 1: "orange", 10: "yellow", 20: "red"}


def lowinc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real entry point (its one-line error handling included); exit code and stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    return int(ended.value.code or 0), capsys.readouterr().err


@pytest.fixture
def cli(tmp_path, monkeypatch, webhook, smtp):
    """An app with only the outreach commands, a home and a config dir of its own."""
    config = make_config(webhook_url=f"{webhook.url}/hook", smtp_port=smtp.port)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "outreach.yaml").write_text(
        yaml.safe_dump({"outreach": config.model_dump(mode="json")}, allow_unicode=True), encoding="utf-8"
    )
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(tmp_path / "configs"))
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str) -> dict:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


def test_queue_send_status_export_and_record_from_the_command_line(cli, tmp_path, webhook, smtp, capsys):
    run = cli
    visit_list(TIERS).to_parquet(tmp_path / "visits.parquet")
    heads(list(TIERS)).to_parquet(tmp_path / "heads.parquet")
    queued = run("alerts", "queue", "--visit-list", str(tmp_path / "visits.parquet"), "--run-id", "r1")
    assert queued["alerts"] == 4 and queued["messages"] > 0
    assert run("alerts", "queue", "--visit-list", str(tmp_path / "visits.parquet"))["messages"] == 0
    sent = run("alerts", "send")
    assert sent["sent"] == queued["messages"] == len(webhook.received) + len(smtp.received)
    status = run("alerts", "status")
    assert status["by_status"] == {"pending": 0, "sent": queued["messages"], "dead": 0}

    export = run(
        "lists",
        "export",
        "--town",
        TOWN_A,
        "--as-of",
        "2024-06-01",
        "--user",
        "李强",
        "--csv",
        "--heads",
        str(tmp_path / "heads.parquet"),
    )
    assert export["rows"] == 3 and export["xlsx"].startswith(str(tmp_path / "home" / "outreach" / "exports"))
    code, stderr = lowinc(
        capsys, "lists", "export", "--town", TOWN_A, "--as-of", "2024-06-01", "--user", "数据组"
    )
    assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr

    recorded = run(
        "visits",
        "record",
        "--alert",
        "1",
        "--visited-on",
        "2024-06-04",
        "--hardship",
        "--user",
        "王芳",
        "--note",
        "住院",
    )
    assert recorded["hardship_confirmed"] is True
    assert run("visits", "outcomes") == {"visits": 1, "hardship_confirmed": 1}
