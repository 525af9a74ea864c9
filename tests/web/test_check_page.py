"""The re-verification visit (定期核查) of a 核查 / 渐退 list row: the page, the form, corrections,
the record on the list, scope, audit and refusals; SQLite and PostgreSQL; in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from outreach.audit import read_audit
from outreach.contacts import household_code
from outreach.schema import RecipientCheck
from outreach.web.context import WebContext
from tests.outreach.factory import household_key
from tests.outreach.hukou_home import write_home
from tests.outreach.lists_home import write_lists
from tests.web.conftest import csrf_from, login, screenshot

Client = Callable[[str], TestClient]
BOTH = pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)
MONTH = "2024-06-01"


@pytest.fixture
def home(web_context: WebContext) -> Path:
    """The app's home with the hukou and the lists of 2024-06-01 (tests/outreach/lists_home.py)."""
    write_home(web_context.layout.root)
    write_lists(web_context.layout)
    return web_context.layout.root


def _url(n: int, kind: str = "reverify") -> str:
    return f"/lists/{kind}/{MONTH}/{household_code(household_key(n))}"


def _post(client: TestClient, url: str, **values: str) -> object:
    token = csrf_from(client.get(url).text)
    return client.post(url, data={"csrf_token": token, **values})


def _records(engine: Engine) -> list[RecipientCheck]:
    with Session(engine) as session:
        return list(session.execute(select(RecipientCheck).order_by(RecipientCheck.id)).scalars())


@BOTH
def test_a_worker_records_a_check_and_sees_it_on_the_list(
    home: Path, signed_in_client: Client, web_engine: Engine
) -> None:
    worker = signed_in_client("王芳")
    page = worker.get(_url(0))
    assert page.status_code == 200
    assert "李桂英" in page.text and "不据此停发或取消救助" in page.text  # named; no decision
    assert "仍符合条件" in page.text and "收入稳定" not in page.text  # the reverify results only
    listed = worker.get("/lists?kind=reverify").text
    assert f'href="{_url(0)}"' in listed and "记录核查" in listed
    done = _post(worker, _url(0), checked_on="2024-06-02", result="review", note="新购车辆一辆")
    assert done.status_code == 303 and done.headers["location"] == f"{_url(0)}?recorded=1#check"  # type: ignore[attr-defined]
    [record] = _records(web_engine)
    assert (record.household_key, record.kind, record.result) == (household_key(0), "reverify", "review")
    assert record.recorded_by == "王芳" and record.source == "web" and record.note == "新购车辆一辆"
    assert record.town_code == record.village_code[:9] and record.as_of.isoformat() == MONTH
    shown = worker.get(f"{_url(0)}?recorded=1").text
    assert "核查结果已记录" in shown and "情况有变化，提请复核认定" in shown and "新购车辆一辆" in shown
    listed = worker.get("/lists?kind=reverify").text
    assert "2024-06-02 情况有变化，提请复核认定" in listed and "查看记录" in listed
    audit = read_audit(web_engine)
    entry = audit[audit["action"] == "record_check"].iloc[-1]
    assert entry["target"] == f"household:{household_key(0)}" and entry["detail"]["result"] == "review"
    assert "李桂英" not in str(audit.to_dict())
    assert (audit["action"] == "view_household").sum() >= 2


def test_a_second_record_must_be_a_correction_and_keeps_the_first(
    home: Path, signed_in_client: Client, web_engine: Engine
) -> None:
    worker = signed_in_client("王芳")
    _post(worker, _url(2, "phase_out"), checked_on="2024-06-02", result="stable")
    again = _post(worker, _url(2, "phase_out"), checked_on="2024-06-03", result="at_risk")
    assert again.status_code == 400 and "already has a recorded" in again.text  # type: ignore[attr-defined]
    fixed = _post(worker, _url(2, "phase_out"), checked_on="2024-06-03", result="at_risk", correction="1")
    assert fixed.status_code == 303  # type: ignore[attr-defined]
    first, second = _records(web_engine)
    assert second.supersedes_id == first.id and first.result == "stable" and second.result == "at_risk"
    page = worker.get(_url(2, "phase_out")).text
    assert "（已更正）" in page and "有返贫风险" in page
    assert "2024-06-03 有返贫风险" in worker.get("/lists?kind=phase_out").text
    actions = read_audit(web_engine)["action"].tolist()
    assert "correct_check" in actions and "record_check_denied" in actions


def test_bad_results_and_dates_are_refused_with_one_line(
    home: Path, signed_in_client: Client, web_engine: Engine
) -> None:
    worker = signed_in_client("王芳")
    wrong_kind = _post(worker, _url(0), checked_on="2024-06-02", result="stable")  # a phase-out result
    assert wrong_kind.status_code == 400 and "unknown result" in wrong_kind.text  # type: ignore[attr-defined]
    early = _post(worker, _url(0), checked_on="2024-05-31", result="still_qualifies")
    assert early.status_code == 400 and "outside 2024-06-01" in early.text  # type: ignore[attr-defined]
    future = _post(worker, _url(0), checked_on="2024-06-09", result="still_qualifies")
    assert future.status_code == 400  # type: ignore[attr-defined]
    garbled = _post(worker, _url(0), checked_on="June", result="still_qualifies")
    assert garbled.status_code == 400 and "请填写走访日期" in garbled.text  # type: ignore[attr-defined]
    assert _records(web_engine) == [] and "Traceback" not in garbled.text  # type: ignore[attr-defined]


@BOTH
def test_outside_the_area_or_off_the_list_is_the_same_404(
    home: Path, signed_in_client: Client, web_engine: Engine
) -> None:
    other = signed_in_client("刘洋")  # town B's worker
    assert other.get(_url(0)).status_code == 404
    token = csrf_from(other.get("/lists").text)
    posted = other.post(_url(0), data={"csrf_token": token, "checked_on": "2024-06-02", "result": "review"})
    assert posted.status_code == 404 and "李桂英" not in posted.text
    worker = signed_in_client("王芳")
    assert worker.get(_url(3)).status_code == 404  # in A1, not on the reverify list
    assert worker.get(_url(2)).status_code == 404  # on the phase-out list, not the reverify one
    assert worker.get(_url(10)).status_code == 404  # on the list, in another village
    assert signed_in_client("李强").get(_url(10)).status_code == 200  # the town officer's
    assert worker.get(f"/lists/entitlement/{MONTH}/{household_code(household_key(0))}").status_code == 400
    assert worker.get(f"/lists/reverify/2024-13-01/{household_code(household_key(0))}").status_code == 400
    assert worker.get(f"/lists/reverify/{MONTH}/not-a-code!").status_code == 400
    assert worker.get(f"/lists/reverify/2023-06-01/{household_code(household_key(0))}").status_code == 404
    assert _records(web_engine) == []
    denied = read_audit(web_engine)
    assert {"view_household_denied", "record_check_denied"} <= set(denied["action"])


def test_who_may_record(home: Path, signed_in_client: Client, client: TestClient) -> None:
    assert client.get(_url(0)).status_code == 303  # to the sign-in page
    assert signed_in_client("数据组").get(_url(0)).status_code == 403
    worker = signed_in_client("王芳")
    no_token = worker.post(_url(0), data={"checked_on": "2024-06-02", "result": "review"})
    assert no_token.status_code in (400, 403)
    english = worker.get(f"{_url(0)}?lang=en").text
    assert "Re-verification visit" in english and "check_" not in english and "still qualifies" in english


def test_recording_in_chromium(live_server: str, page: object, home: Path, web_engine: Engine) -> None:
    pg = page  # a Playwright page (tests/web/conftest.py)
    pg.set_viewport_size({"width": 360, "height": 800})  # type: ignore[attr-defined]
    login(pg, live_server, "王芳")
    pg.goto(f"{live_server}/lists?kind=reverify")  # type: ignore[attr-defined]
    pg.click("table.lists a.button:has-text('记录核查')")  # type: ignore[attr-defined]
    pg.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/lists/reverify/2024-06-01/" in pg.url  # type: ignore[attr-defined]
    pg.fill("#checked_on", "2024-06-02")  # type: ignore[attr-defined]
    pg.check("input[name=result][value=still_qualifies]")  # type: ignore[attr-defined]
    pg.click("button[type=submit]:has-text('提交核查结果')")  # type: ignore[attr-defined]
    pg.wait_for_load_state()  # type: ignore[attr-defined]
    assert "recorded=1" in pg.url  # type: ignore[attr-defined]
    assert pg.locator("[role=status]").inner_text() == "核查结果已记录。"  # type: ignore[attr-defined]
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360  # type: ignore[attr-defined]
    assert screenshot(pg, "check-phone").stat().st_size > 10_000
    assert [r.result for r in _records(web_engine)] == ["still_qualifies"]


def test_the_dashboard_counts_the_months_checks_in_the_area(home: Path, signed_in_client: Client) -> None:
    worker = signed_in_client("王芳")
    _post(worker, _url(0), checked_on="2024-06-02", result="review")
    _post(worker, _url(1), checked_on="2024-06-02", result="still_qualifies")
    _post(signed_in_client("赵敏"), _url(20), checked_on="2024-06-02", result="review")  # town B
    town = signed_in_client("李强").get("/dashboard").text
    section = town[town.index("定期核查") :]
    # town A: households 0, 1 and 10 on reverify (two visited), household 2 on phase-out
    assert '<td class="num">3</td><td class="num">2</td>' in section
    assert "仍符合条件 1 · 情况有变化，提请复核认定 1 · 联系不上 0" in section
    assert '<td class="num">1</td><td class="num">0</td>' in section  # phase-out: none yet
    county = signed_in_client("赵敏").get("/dashboard").text
    assert "情况有变化，提请复核认定 2" in county[county.index("定期核查") :]


def test_the_list_downloads_as_a_workbook_of_the_users_rows(
    home: Path, signed_in_client: Client, client: TestClient, web_engine: Engine
) -> None:
    import io

    import openpyxl

    worker = signed_in_client("王芳")
    listed = worker.get("/lists?kind=reverify").text
    link = f"/lists.xlsx?kind=reverify&amp;as_of={MONTH}"
    assert f'href="{link}"' in listed
    got = worker.get(link.replace("&amp;", "&"))
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"].startswith('attachment; filename="reverify_2024-06_u')
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
    codes = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [household_code(household_key(n)) for n in (0, 1)]  # A1's rows only
    assert worker.get(f"/lists.xlsx?kind=entitlement&as_of={MONTH}").status_code == 400
    assert worker.get("/lists.xlsx?kind=reverify&as_of=June").status_code == 400
    assert worker.get("/lists.xlsx?kind=reverify&as_of=2023-01-01").status_code == 404
    assert signed_in_client("数据组").get(f"/lists.xlsx?kind=reverify&as_of={MONTH}").status_code == 403
    assert client.get(f"/lists.xlsx?kind=reverify&as_of={MONTH}").status_code == 303
    audit = read_audit(web_engine)
    assert (audit["action"] == "export_check_list").sum() == 1
