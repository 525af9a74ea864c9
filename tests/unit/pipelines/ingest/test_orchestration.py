"""The one orchestration of months, with a stand-in submit and finish: every source of
every month submitted before the first month is finished, months finished in order, a
source failed as a whole rejected by its files' names; and the CLI goes through it."""

from __future__ import annotations

import json
from concurrent.futures import Future

import pytest
import typer
from typer.testing import CliRunner

from ingest.report import FileReport, MonthReport
from lowinc.home import HomeLayout
from lowinc.settings import DEFAULT_CONFIG_DIR
from lowinc.sources import load_sources
from pipelines.ingest import orchestration
from pipelines.ingest.cli import register
from pipelines.ingest.workers import TableWorkers
from tests.unit.ingest.factory import HUKOU_HEADER, hukou_rows, write_csv

MONTHS = ["2023-03", "2023-04"]


@pytest.fixture(scope="module")
def sources():
    everything = load_sources(DEFAULT_CONFIG_DIR / "sources")
    return {name: everything[name] for name in ("hukou", "medical")}


def _done(reports: list[FileReport]) -> Future[list[FileReport]]:
    future: Future[list[FileReport]] = Future()
    future.set_result(reports)
    return future


def test_months_are_submitted_at_once_and_finished_in_order(tmp_path, sources):
    paths = HomeLayout(tmp_path)
    paths.ingest_reports.mkdir(parents=True)
    for m in MONTHS:  # an earlier run's reports: gone before anything is submitted
        (paths.ingest_reports / f"{m}.json").write_text("{}")
    events: list[tuple[str, ...]] = []

    def submit(name: str, month: str) -> Future[list[FileReport]]:
        assert not list(paths.ingest_reports.glob("*.json"))
        events.append(("submit", name, month))
        if (name, month) == ("medical", MONTHS[1]):
            failed: Future[list[FileReport]] = Future()
            failed.set_exception(OSError("the share is gone"))
            return failed
        return _done([FileReport(name, "t", f"{name}-{month}.csv", "ingested")])

    def finish(month: str, reports: list[FileReport]) -> MonthReport:
        events.append(("finish", month, *(f"{r.file}:{r.status}" for r in reports)))
        return MonthReport(month, reports, [])

    seen: list[str] = []
    out = orchestration.ingest_months(MONTHS, paths, sources, submit, finish, lambda r: seen.append(r.month))
    assert [r.month for r in out] == seen == MONTHS
    submitted = [("submit", n, m) for m in MONTHS for n in sources]
    assert events[: len(submitted)] == submitted
    first = ("finish", MONTHS[0], "hukou-2023-03.csv:ingested", "medical-2023-03.csv:ingested")
    assert events[len(submitted)] == first
    last = events[-1]
    assert last[:3] == ("finish", MONTHS[1], "hukou-2023-04.csv:ingested")
    assert last[3:] == ("医保结算明细*.csv:rejected",)  # the source's files, by name (none delivered)
    assert "OSError" in out[1].files[-1].message and "the share is gone" not in out[1].files[-1].message


def test_later_does_its_work_once_when_first_asked():
    calls: list[int] = []
    later = orchestration.Later(lambda: calls.append(1) or [FileReport("s", "t", "f", "ingested")])
    assert calls == []
    assert later.result() == later.result() and calls == [1]
    broken = orchestration.Later(lambda: 1 / 0)  # type: ignore[arg-type, return-value]
    with pytest.raises(ZeroDivisionError):
        broken.result()


def test_the_cli_runs_the_orchestration_with_the_table_workers_submit(tmp_path, monkeypatch):
    calls = []
    real = orchestration.ingest_months

    def spy(months, paths, sources, submit, finish, on_month=None):
        calls.append((months, submit))
        return real(months, paths, sources, submit, finish, on_month)

    monkeypatch.setattr(orchestration, "ingest_months", spy)
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "unit-key")
    hukou = tmp_path / "raw" / "hukou" / MONTHS[0] / "户籍人口_全量.csv"
    write_csv(hukou, HUKOU_HEADER, hukou_rows(), "gb18030")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `ingest` a subcommand
    result = CliRunner().invoke(app, ["ingest", "--month", MONTHS[0], "--json"])
    assert result.exit_code == 0, result.output
    ((months, submit),) = calls
    assert months == [MONTHS[0]] and isinstance(submit.__self__, TableWorkers)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {r["file"]: r["accepted"] for r in records}["户籍人口_全量.csv"] == 3
