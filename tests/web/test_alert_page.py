"""The household page /alerts/{id} and its outcome form, through the real app and sign-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from outreach.audit import read_audit
from outreach.contacts import household_code
from outreach.schema import OutcomeNeed, OutcomeRoute, Referral, VisitOutcome, VisitTask
from outreach.web.context import WebContext
from pipelines.outreach.dispatch import write_list_contacts
from tests.outreach.factory import household_key, visit_list
from tests.outreach.hukou_home import people, write_home
from tests.web.conftest import TIERS, Seeded, csrf_from, login, screenshot

Client = Callable[[str], TestClient]


@pytest.fixture
def home(web_context: WebContext, web_engine: Engine) -> Path:
    """The app's home with the hukou of households 0-3 and 10, and the list's contacts written."""
    root = web_context.layout.root
    write_home(root)
    write_list_contacts(web_engine, root, visit_list(TIERS))
    return root


def test_the_entitled_worker_sees_the_household_with_masked_ids_only(
    home: Path, seeded: Seeded, signed_in_client: Client, web_engine: Engine
) -> None:
    alert = seeded.alerts[0]
    page = signed_in_client("王芳").get(f"/alerts/{alert}")
    assert page.status_code == 200
    html = page.text
    assert household_code(household_key(0)) in html
    assert "李桂英" in html and "王建国" in html  # the spouse stands in, the son is a member
    spouse = next(p for p in people() if p.name == "李桂英")
    assert spouse.id_no[:6] + "********" + spouse.id_no[-4:] in html
    assert not any(p.id_no in html for p in people())  # no plain ID anywhere on the page
    assert "2 级" in html  # the spouse's disability grade
    assert "<svg" in html and "<desc" in html  # charts with a text alternative
    assert "99999" not in html and "99,999" not in html  # a row known after the as-of month
    assert 'name="csrf_token"' in html and 'type="date"' in html
    assert "style=" not in html and "<script" not in html  # the strict CSP holds
    views = read_audit(web_engine)
    viewed = views[(views["action"] == "view_household") & (views["target"] == f"alert:{alert}")]
    assert len(viewed) == 1 and viewed["actor"].iloc[0] == "王芳"
    assert "李桂英" not in str(viewed["detail"].iloc[0])


def test_the_page_is_in_english_on_request(home: Path, seeded: Seeded, signed_in_client: Client) -> None:
    html = signed_in_client("王芳").get(f"/alerts/{seeded.alerts[0]}?lang=en").text
    assert "Members" in html and "Record the outcome" in html


def test_another_villages_worker_gets_404_by_url_and_by_form(
    home: Path, seeded: Seeded, signed_in_client: Client, web_engine: Engine
) -> None:
    alert = seeded.alerts[0]
    other = signed_in_client("刘洋")
    assert other.get(f"/alerts/{alert}").status_code == 404
    assert other.get("/alerts/999999").status_code == 404  # absent: the same answer
    own = other.get(f"/alerts/{seeded.alerts[20]}")
    assert own.status_code == 200
    token = csrf_from(own.text)
    posted = other.post(
        f"/alerts/{alert}/outcome",
        data={"csrf_token": token, "visited_on": "2024-06-02", "result": "no_hardship"},
    )
    assert posted.status_code == 404
    with web_engine.connect() as connection:
        assert connection.execute(select(VisitOutcome.id)).first() is None
    audit = read_audit(web_engine)
    assert ((audit["action"] == "view_household_denied") & (audit["actor"] == "刘洋")).any()
    assert ((audit["action"] == "record_visit_denied") & (audit["actor"] == "刘洋")).any()


def test_an_outcome_posted_through_the_form_is_recorded_with_needs_and_routes(
    home: Path, seeded: Seeded, signed_in_client: Client, web_engine: Engine
) -> None:
    alert = seeded.alerts[0]
    worker = signed_in_client("王芳")
    token = csrf_from(worker.get(f"/alerts/{alert}").text)
    form = {
        "csrf_token": token,
        "visited_on": "2024-06-03",
        "result": "confirmed",
        "needs": ["medical", "care"],
        "routes": ["medical_aid", "dibao"],
        "note": "老人行动不便",
    }
    done = worker.post(f"/alerts/{alert}/outcome", data=form)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/alerts/{alert}?recorded=1")
    with web_engine.connect() as connection:
        outcome = connection.execute(select(VisitOutcome)).one()
        needs = connection.execute(select(OutcomeNeed.category)).scalars().all()
        routes = connection.execute(select(OutcomeRoute.route)).scalars().all()
        referrals = connection.execute(select(Referral.route, Referral.department)).all()
        status = connection.execute(select(VisitTask.status).where(VisitTask.alert_id == alert)).scalar()
    assert (outcome.result, outcome.source, outcome.recorded_by) == ("confirmed", "web", "王芳")
    assert sorted(needs) == ["care", "medical"] and sorted(routes) == ["dibao", "medical_aid"]
    assert referrals == [("medical_aid", "医保局")]
    assert status == "visited"
    again = worker.get(done.headers["location"]).text
    assert "核查结果已记录" in again and "医保局" in again and "老人行动不便" in again


def test_a_form_without_its_csrf_token_is_refused(
    home: Path, seeded: Seeded, signed_in_client: Client
) -> None:
    worker = signed_in_client("王芳")
    refused = worker.post(
        f"/alerts/{seeded.alerts[0]}/outcome", data={"visited_on": "2024-06-03", "result": "no_hardship"}
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("visited_on", "reason"),
    [
        ("2024-06-04", "走访日期不能晚于今天"),
        ("2024-05-20", "走访日期不能早于预警月份"),
        ("june", "请填写走访日期"),
    ],
)
def test_an_impossible_date_re_renders_the_form_with_the_reason(
    home: Path, seeded: Seeded, signed_in_client: Client, web_engine: Engine, visited_on: str, reason: str
) -> None:
    worker = signed_in_client("王芳")
    alert = seeded.alerts[0]
    token = csrf_from(worker.get(f"/alerts/{alert}").text)
    page = worker.post(
        f"/alerts/{alert}/outcome",
        data={"csrf_token": token, "visited_on": visited_on, "result": "no_hardship", "note": "<b>x</b>"},
    )
    assert page.status_code == 400
    assert reason in page.text
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text  # the note is kept, escaped
    with web_engine.connect() as connection:
        assert connection.execute(select(VisitOutcome.id)).first() is None


def test_needs_without_confirmed_hardship_and_a_second_record_are_refused_with_the_reason(
    home: Path, seeded: Seeded, signed_in_client: Client
) -> None:
    worker = signed_in_client("王芳")
    alert = seeded.alerts[1]
    token = csrf_from(worker.get(f"/alerts/{alert}").text)
    base = {"csrf_token": token, "visited_on": "2024-06-03"}
    page = worker.post(f"/alerts/{alert}/outcome", data={**base, "result": "no_hardship", "needs": "medical"})
    assert page.status_code == 400 and "确认困难" in page.text
    assert worker.post(f"/alerts/{alert}/outcome", data={**base, "result": "unreachable"}).status_code == 303
    second = worker.post(f"/alerts/{alert}/outcome", data={**base, "result": "refused"})
    assert second.status_code == 400 and "already has a recorded visit" in second.text
    corrected = worker.post(f"/alerts/{alert}/outcome", data={**base, "result": "refused", "correction": "1"})
    assert corrected.status_code == 303


def test_signed_out_get_goes_to_sign_in(client: TestClient, seeded: Seeded) -> None:
    response = client.get(f"/alerts/{seeded.alerts[0]}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_a_worker_records_an_outcome_in_the_browser_on_a_phone(
    home: Path, seeded: Seeded, live_server: str, page: Any, web_engine: Engine
) -> None:
    alert = seeded.alerts[0]
    page.set_viewport_size({"width": 360, "height": 740})
    login(page, live_server, "王芳")
    page.goto(f"{live_server}/alerts/{alert}")
    assert page.locator("h1").inner_text().startswith("预警")
    assert page.evaluate("document.documentElement.scrollWidth") <= 380  # no sideways page scroll
    screenshot(page, "alert-page-phone")
    page.fill("#visited_on", "2024-06-03")
    page.check("input[name=result][value=confirmed]")
    page.check("input[name=needs][value=housing]")
    page.check("input[name=routes][value=housing_renovation]")
    page.fill("#note", "房屋漏雨")
    page.click("#outcome button[type=submit]")
    page.wait_for_load_state()
    assert "核查结果已记录" in page.content()
    screenshot(page, "alert-page-recorded")
    with web_engine.connect() as connection:
        assert connection.execute(select(Referral.department)).scalars().all() == ["住建局"]


def test_hostile_alert_ids_get_the_same_404(home: Path, seeded: Seeded, signed_in_client: Client) -> None:
    worker = signed_in_client("王芳")
    for path in ["/alerts/0", "/alerts/-5", "/alerts/99999999999999999999", "/alerts/2147483648"]:
        assert worker.get(path).status_code == 404, path
    assert worker.get("/alerts/abc").status_code in (400, 404)
