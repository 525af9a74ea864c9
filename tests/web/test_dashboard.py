"""The officers' pages: /dashboard, the needs register (/needs, /needs.xlsx, the follow-up forms)
and my list as Excel (/visits.xlsx), each inside the signed-in user's area: an officer of town A
sees nothing of town B; another town's referral or need answers 404 by form post; forms need
their CSRF token."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.accounts import add_user
from outreach.audit import read_audit
from outreach.export import HEADERS
from outreach.outcomes import record_outcome
from outreach.schema import OutcomeNeed, Referral, VisitTask
from tests.outreach.factory import TOWN_A, TOWN_B, VILLAGE_B1
from tests.web.conftest import NOW, csrf_from, login, screenshot

pytestmark = pytest.mark.integration
both_backends = pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)
VISIT = dt.date(2024, 6, 2)


@pytest.fixture
def field_loop(web_engine, seeded, password_hash):
    """孙丽, town B's officer; visits recorded in both towns with needs and referrals."""
    with Session(web_engine) as session, session.begin():
        add_user(session, "孙丽", "town_officer", [TOWN_B], None, "cli", NOW, password_hash=password_hash)
    a = seeded.alerts
    record = dict(visited_on=VISIT, now=NOW, source="web")
    record_outcome(
        web_engine,
        alert_id=a[0],
        user_name="王芳",
        result="confirmed",
        needs=["medical"],
        routes=["medical_aid"],
        **record,
    )
    record_outcome(web_engine, alert_id=a[1], user_name="王芳", result="no_hardship", **record)
    record_outcome(
        web_engine,
        alert_id=a[20],
        user_name="刘洋",
        result="confirmed",
        needs=["housing"],
        routes=["housing_renovation"],
        **record,
    )
    with Session(web_engine) as session:
        referrals = dict(session.execute(select(Referral.town_code, Referral.id)).all())
        needs = {
            town: need_id
            for need_id, town in session.execute(
                select(OutcomeNeed.id, Referral.town_code).join(
                    Referral, Referral.outcome_id == OutcomeNeed.outcome_id
                )
            )
        }
    return {"referral": referrals, "need": needs}


def _alert_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/alerts/(\d+)"', html)}


@both_backends
def test_an_officer_sees_their_town_only_on_the_dashboard_and_in_the_register(
    signed_in_client, seeded, field_loop
):
    a = seeded.alerts
    town_a, town_b = signed_in_client("李强"), signed_in_client("孙丽")
    board = town_a.get("/dashboard")
    assert board.status_code == 200 and "东村" in board.text and "西村" in board.text
    assert "南社区" not in board.text and "<svg" in board.text and "50%" in board.text  # 1 of 2 confirmed
    english = town_a.get("/dashboard?lang=en")
    assert "<h1>Dashboard</h1>" in english.text and "Completion by village" in english.text
    assert "东村" not in town_a.get("/dashboard?as_of=2024-05-01&lang=zh").text  # no list that month
    assert town_a.get("/dashboard?as_of=June").status_code == 400
    other = town_b.get("/dashboard")
    assert other.status_code == 200 and "南社区" in other.text and "东村" not in other.text
    register = town_a.get("/needs")
    assert register.status_code == 200 and _alert_links(register.text) == {a[0]}
    assert "<td>医保局</td>" in register.text and "<td>住建局</td>" not in register.text
    assert _alert_links(town_b.get("/needs").text) == {a[20]}
    assert town_b.get(f"/needs?town={TOWN_A}").status_code == 404
    assert town_b.get("/needs?town=../../x").status_code == 404
    assert town_a.get("/needs?category=wealth").status_code == 400


def test_workers_and_strangers_do_not_get_the_officers_pages(client, signed_in_client, field_loop):
    assert client.get("/dashboard").status_code == 303  # to /login
    worker = signed_in_client("王芳")
    for path in ("/dashboard", "/needs", "/needs.xlsx"):
        assert worker.get(path).status_code == 403
    assert signed_in_client("数据组").get("/dashboard").status_code == 403


@both_backends
def test_another_towns_referral_or_need_answers_404_by_form_and_forms_need_their_token(
    web_engine, signed_in_client, seeded, field_loop
):
    town_a, town_b = signed_in_client("李强"), signed_in_client("孙丽")
    mine, theirs = field_loop["referral"][TOWN_A], field_loop["referral"][TOWN_B]
    token_b = csrf_from(town_b.get("/needs").text)
    assert (
        town_b.post(f"/referrals/{mine}", data={"status": "accepted", "csrf_token": token_b}).status_code
        == 404
    )
    assert (
        town_b.post("/referrals/999999", data={"status": "accepted", "csrf_token": token_b}).status_code
        == 404
    )
    assert (
        town_b.post(f"/needs/{field_loop['need'][TOWN_A]}/met", data={"csrf_token": token_b}).status_code
        == 404
    )
    assert town_a.post(f"/referrals/{mine}", data={"status": "accepted"}).status_code == 403  # no token
    token_a = csrf_from(town_a.get("/needs").text)
    assert (
        town_a.post(f"/referrals/{mine}", data={"status": "accepted", "csrf_token": token_b}).status_code
        == 403
    )
    moved = town_a.post(
        f"/referrals/{mine}", data={"status": "accepted", "csrf_token": token_a, "next": "/needs"}
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/needs?done=referral"
    wrong = town_a.post(f"/referrals/{mine}", data={"status": "sent", "csrf_token": token_a})
    assert wrong.status_code == 400 and "cannot become sent" in wrong.text
    town_a.post(f"/referrals/{mine}", data={"status": "done", "csrf_token": token_a})
    met = town_a.post(
        f"/needs/{field_loop['need'][TOWN_A]}/met", data={"csrf_token": token_a, "next": "//evil"}
    )
    assert met.status_code == 303 and met.headers["location"] == "/needs?done=need"
    with Session(web_engine) as session:
        statuses = dict(session.execute(select(Referral.id, Referral.status)).all())
        task = session.execute(
            select(VisitTask.status).where(VisitTask.alert_id == seeded.alerts[0])
        ).scalar_one()
    assert statuses == {mine: "done", theirs: "sent"} and task == "closed"
    actions = read_audit(web_engine)["action"].tolist()
    assert (
        actions.count("update_referral_denied") == 3 and actions.count("need_met_denied") == 1
    )  # 2 × 404, 1 × 400
    assert actions.count("csrf_denied") == 2 and actions.count("update_referral") == 2


def test_the_register_and_my_list_download_as_excel_and_are_audited(
    web_engine, signed_in_client, seeded, field_loop
):
    town_a, worker = signed_in_client("李强"), signed_in_client("王芳")
    register = town_a.get(f"/needs.xlsx?town={TOWN_A}")
    assert register.status_code == 200 and register.headers["cache-control"] == "no-store"
    assert f'filename="needs_{TOWN_A}_' in register.headers["content-disposition"]
    assert load_workbook(io.BytesIO(register.content)).sheetnames == ["需求", "转介"]
    mine = worker.get("/visits.xlsx")
    assert mine.status_code == 200 and mine.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(mine.content)).active
    alerts = [r[HEADERS.index("预警编号")].value for r in sheet.iter_rows(min_row=2)]
    results = [r[HEADERS.index("核查结果")].value for r in sheet.iter_rows(min_row=2)]
    a = seeded.alerts
    assert alerts == [a[0], a[1], a[2]] and results == ["确认困难", "暂无困难", None]
    red = worker.get("/visits.xlsx?tier=red")
    assert [r[1].value for r in load_workbook(io.BytesIO(red.content)).active.iter_rows(min_row=2)] == [a[0]]
    assert worker.get(f"/visits.xlsx?village={VILLAGE_B1}").status_code == 404
    assert worker.get("/visits.xlsx?tier=purple").status_code == 400
    assert signed_in_client("数据组").get("/visits.xlsx").status_code == 403
    audit = read_audit(web_engine)
    assert audit[audit["action"] == "export_needs"]["actor"].tolist() == ["李强"]
    assert audit[audit["action"] == "export_list"]["actor"].tolist() == ["王芳", "王芳"]


def test_chromium_shows_the_dashboard_and_the_register_on_a_phone(live_server, page, field_loop):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on(
        "response",
        lambda r: failed.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None,
    )
    login(page, live_server, "李强")
    failed.clear()
    errors.clear()  # sign-in lands on /visits, another page's (not served on every branch)
    page.goto(f"{live_server}/dashboard")
    assert page.locator("h1").inner_text() == "工作台"
    assert page.locator("svg.chart").count() >= 4
    screenshot(page, "dashboard")
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "dashboard-phone")
    page.goto(f"{live_server}/needs")
    page.select_option("form.follow select[name=status]", "accepted")
    page.click("form.follow >> text=保存")
    page.wait_for_url(re.compile(r".*/needs\?done=referral$"))
    assert "转介状态已更新" in page.inner_text("main") and "已受理" in page.inner_text("main")
    screenshot(page, "needs-phone")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 360 + 1, "the page scrolls sideways on a phone"
    assert not failed, failed  # no broken resource (the browser's own /favicon.ico aside)
    assert not [e for e in errors if "Failed to load resource" not in e], errors  # no CSP violation
