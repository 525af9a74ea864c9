"""After an ingest the data team hears, on its own channels, what it has to fix: rejected and
missing files, folders that are not months, sources quarantining too much. Real CLI, real
files, the real SQLite outbox and a real HTTP receiver."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from ingest.report import FileReport, MonthReport
from pipelines.cli import app
from pipelines.notify import notify_ingest
from pipelines.settings import load_settings
from tests.outreach.receivers import HttpReceiver
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


def deliver_demo_defects(home) -> None:
    """A month like the demo's: one good medical file, one resubmission without its settlement
    id column (rejected), a negative amount (1 of 2 rows quarantined), a misnamed month folder,
    and most sources not delivered at all (missing)."""
    raw = home / "raw"
    write_csv(raw / "hukou" / MONTH / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    rows = [medical_row("S1", make_id(seq="011")), medical_row("S2", make_id(seq="022"))]
    rows[1][-1] = "-1"
    med = raw / "medical" / MONTH
    write_csv(med / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")
    no_id = [r[1:] for r in [MEDICAL_HEADER, *rows]]
    write_csv(med / "医保结算明细_重报.csv", no_id[0], no_id[1:], "utf-8-sig")
    (raw / "medical" / "2022-13").mkdir(parents=True)


def data_team_on(monkeypatch, webhook: HttpReceiver, home) -> None:
    users = [
        {"name": "数据组", "role": "data_team", "addresses": {"webhook": f"{webhook.url}/team"}},
        {
            "name": "王芳",
            "role": "village_worker",
            "level": "village",
            "code": "330502001005",
            "addresses": {"webhook": f"{webhook.url}/worker"},
        },
    ]
    monkeypatch.setenv("LOWINC_OUTREACH__USERS", json.dumps(users, ensure_ascii=False))
    monkeypatch.setenv("LOWINC_HOME", str(home))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "notice-key")


def assert_is_the_notice(text: str) -> None:
    assert f"- {MONTH} medical/医保结算明细_重报.csv: " in text and "结算流水号" in text  # rejected
    assert f"{MONTH} hukou/户籍变动*.csv" in text and f"{MONTH} employment/" in text  # missing
    assert "raw/medical/2022-13: month 13 is not 01-12" in text
    assert f"{MONTH} medical: 50.0% quarantined (1 of 2 rows; failures: money_negative 1" in text
    assert not re.search(r"\d{15,18}", text) and "张三" not in text and "李四" not in text


def test_the_data_team_gets_one_notice_per_ingest_and_none_again_for_the_same_month(
    webhook, tmp_path, monkeypatch
):
    home = tmp_path / "home"
    data_team_on(monkeypatch, webhook, home)
    deliver_demo_defects(home)
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", "--month", MONTH])
    assert first.exit_code == 0, first.output
    (notice,) = webhook.received
    assert notice.path == "/team"  # the data team only, not the social workers
    assert notice.body["title"].startswith(f"lowinc: ingest {MONTH}: 1 rejected files, ")
    assert_is_the_notice(notice.body["message"])
    assert notice.key == notice.headers["X-Idempotency-Key"]

    again = runner.invoke(app, ["ingest", "--month", MONTH])  # the same month, the same findings
    assert again.exit_code == 0, again.output
    assert len(webhook.received) == 1

    (home / "raw" / "medical" / "2022-13").rename(home / "raw" / "medical" / "2022-12")
    runner.invoke(app, ["ingest", "--month", MONTH])  # a finding changed: a new notice
    assert len(webhook.received) == 2 and "2022-13" not in webhook.received[1].body["message"]


def test_nothing_to_fix_sends_nothing_and_opens_no_database(webhook, tmp_path, monkeypatch):

    home = tmp_path / "home"
    data_team_on(monkeypatch, webhook, home)
    clean = MonthReport(
        MONTH, [FileReport("medical", "t", "f.csv", "ingested", rows_in=100, accepted=99, quarantined=1)]
    )
    assert notify_ingest([clean], load_settings()) == {"findings": None, "queued": 0, "sent": 0}
    assert not webhook.received and not (home / "outreach").exists()
