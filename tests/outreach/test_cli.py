"""The command line end to end on the embedded SQLite default, against real receivers."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from typer.testing import CliRunner

from pipelines.cli import main
from pipelines.outreach.cli import register
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
    outcomes = run("visits", "outcomes")
    assert (outcomes["visits"], outcomes["hardship_confirmed"]) == (1, 1)
    assert outcomes["by_result"] == {
        "confirmed": 1,
        "no_hardship": 0,
        "assisted": 0,
        "unreachable": 0,
        "refused": 0,
    }
    again = (
        "visits",
        "record",
        "--alert",
        "1",
        "--visited-on",
        "2024-06-05",
        "--no-hardship",
        "--user",
        "王芳",
    )
    code, stderr = lowinc(capsys, *again)
    assert code == 2 and "--correction" in stderr  # a second record is no silent overwrite
    corrected = run(*again, "--correction")
    assert corrected["supersedes"] == recorded["outcome"]
    outcomes = run("visits", "outcomes")
    assert (outcomes["visits"], outcomes["hardship_confirmed"], outcomes["by_result"]["no_hardship"]) == (
        1,
        0,
        1,
    )


def test_refusals_on_the_command_line_are_one_line_exit_2_and_audited(cli, tmp_path, capsys):
    """Point 9-12 from the command line: a traversal town, an impossible visit date, an unknown
    user requeueing, and explain without a user of the household's area."""
    import pandas as pd

    from features.store import write_snapshot
    from outreach.audit import read_audit
    from outreach.db import make_engine
    from tests.outreach.factory import VILLAGE_A1, VILLAGE_B1, household_key

    run = cli
    visit_list(TIERS).to_parquet(tmp_path / "visits.parquet")
    run("alerts", "queue", "--visit-list", str(tmp_path / "visits.parquet"), "--run-id", "r1")
    june = pd.Timestamp("2024-06-01")
    snapshot = pd.DataFrame(
        {
            "household_key": [household_key(0), household_key(20)],
            "as_of": [june, june],
            "county_code": ["330502", "330502"],
            "village_code": [VILLAGE_A1, VILLAGE_B1],
        }
    )
    write_snapshot(tmp_path / "home", june, snapshot, None)
    attempts = [
        (
            "lists",
            "export",
            "--town",
            "330502001/../../../../../x",
            "--as-of",
            "2024-06-01",
            "--user",
            "赵敏",
        ),
        ("lists", "export", "--town", TOWN_A, "--as-of", "June", "--user", "李强"),
        ("visits", "record", "--alert", "1", "--visited-on", "2099-01-01", "--hardship", "--user", "王芳"),
        ("alerts", "requeue", "--user", "nobody_at_all"),
        ("explain", "--household", household_key(0), "--user", "nobody_at_all"),
        ("explain", "--household", household_key(20), "--user", "王芳"),
        ("explain", "--household", "no-such-household", "--user", "王芳"),
    ]
    lines = []
    for args in attempts:
        code, stderr = lowinc(capsys, *args)
        assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr, (args, stderr)
        lines.append(stderr)
    assert lines[-1] == lines[-2]  # a household outside the area reads as an unknown one
    assert not list((tmp_path / "home").rglob("x_*"))
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'outreach' / 'outreach.db'}")
    audit = read_audit(engine)
    engine.dispose()
    denied = audit[audit["action"].str.endswith("_denied")]
    assert denied[["actor", "action"]].values.tolist() == [
        ["赵敏", "export_denied"],
        ["王芳", "record_visit_denied"],
        ["nobody_at_all", "requeue_denied"],
        ["nobody_at_all", "explain_denied"],
        ["王芳", "explain_denied"],
        ["王芳", "explain_denied"],
    ]


def test_a_re_verification_visit_recorded_from_the_command_line(cli, tmp_path, capsys):
    """lowinc visits check: the 核查 row recorded by code or Chinese label, a second record only
    as a correction, a result of the other list and a household outside the area refused in one
    line (the outside one reads as a household not on the list)."""
    import datetime as dt

    from outreach.check_records import check_history
    from outreach.contacts import household_code
    from outreach.db import make_engine, transaction
    from tests.outreach.factory import household_key
    from tests.outreach.hukou_home import write_home
    from tests.outreach.lists_home import write_lists

    write_lists(write_home(tmp_path / "home"))
    june = "2024-06-01"

    def check(n: int | str, *args: str) -> list[str]:
        code = household_code(household_key(n)) if isinstance(n, int) else n
        base = ["visits", "check", "--list", "reverify", "--as-of", june, "--checked-on", "2024-06-02"]
        return [*base, "--household", code, "--user", "王芳", *args]

    first = cli(*check(0, "--result", "情况有变化，提请复核认定", "--note", "新购车辆"))
    assert (first["result"], first["list"], first["correction"]) == ("review", "reverify", False)
    code, again = lowinc(capsys, *check(0, "--result", "still_qualifies"))
    assert code == 2 and "already has a recorded reverify visit" in again and again.count("\n") == 1
    fixed = cli(*check(0, "--result", "still_qualifies", "--correction"))
    code, wrong = lowinc(capsys, *check(0, "--result", "stable", "--correction"))
    assert code == 2 and "unknown result 'stable' for the reverify list" in wrong
    outside, unknown = (lowinc(capsys, *check(n, "--result", "still_qualifies")) for n in (20, "ZZZZ-ZZZZ"))
    assert outside[0] == unknown[0] == 2 and outside[1].count("\n") == 1, (outside, unknown)
    assert outside[1].replace(household_code(household_key(20)), "ZZZZ-ZZZZ") == unknown[1]
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'outreach' / 'outreach.db'}")
    with transaction(engine) as session:
        history = check_history(session, household_key(0), dt.date(2024, 6, 1), "reverify")
    engine.dispose()
    assert [(r.id, r.result, r.current, r.note) for r in history] == [
        (first["record"], "review", False, "新购车辆"),
        (fixed["record"], "still_qualifies", True, None),
    ]


def test_a_re_verification_workbook_exported_and_read_back_from_the_command_line(cli, tmp_path, capsys):
    import io
    import stat
    from pathlib import Path

    import openpyxl

    from outreach.contacts import household_code
    from tests.outreach.factory import household_key
    from tests.outreach.hukou_home import write_home
    from tests.outreach.lists_home import write_lists

    write_lists(write_home(tmp_path / "home"))
    exported = cli("lists", "export-checks", "--list", "reverify", "--as-of", "2024-06-01", "--user", "王芳")
    path = Path(exported["xlsx"])
    assert exported["rows"] == 2 and stat.S_IMODE(path.stat().st_mode) == 0o600
    workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for r in range(2, sheet.max_row + 1):
        if sheet.cell(row=r, column=headers.index("户编码") + 1).value == household_code(household_key(1)):
            sheet.cell(row=r, column=headers.index("核查日期") + 1).value = "2024-06-02"
            sheet.cell(row=r, column=headers.index("核查结果") + 1).value = "联系不上"
    filled = tmp_path / "filled.xlsx"
    workbook.save(filled)
    report = cli("visits", "check-import", str(filled), "--user", "王芳")
    assert (report["rows"], report["recorded"], report["empty"], report["refused"]) == (2, 1, 1, [])
    again = cli("visits", "check-import", str(filled), "--user", "王芳")
    assert (again["recorded"], again["unchanged"]) == (0, 1)
    code, refused = lowinc(
        capsys, "lists", "export-checks", "--list", "reverify", "--as-of", "2024-06-01", "--user", "数据组"
    )
    assert code == 2 and refused.count("\n") == 1 and "Traceback" not in refused
    code, bad = lowinc(capsys, "visits", "check-import", str(tmp_path / "missing.xlsx"), "--user", "王芳")
    assert code == 2 and bad.count("\n") == 1
