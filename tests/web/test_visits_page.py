"""/visits: the ranked list within the user's area, its filters, 404 outside it, the audit, and
how it looks on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from outreach.audit import read_audit
from outreach.db import transaction
from outreach.schema import AlertContact, VisitTask
from tests.outreach.factory import VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from tests.web.conftest import Seeded, login, screenshot

ALERT_LINK = re.compile(r'href="/alerts/(\d+)"')
BOTH = pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def contacts(web_engine: Engine, seeded: Seeded) -> Seeded:
    """A contact for every alert (the head's name, a masked ID, an address), as
    outreach.contacts.write_contacts writes them."""
    with transaction(web_engine) as session:
        session.execute(
            insert(AlertContact),
            [
                {
                    "alert_id": alert_id,
                    "head_name": f"户主{n}",
                    "head_id_masked": "330502********1234",
                    "address": f"{n}组{n + 1}号",
                    "group_name": f"{n}组",
                    "stand_in": n == 1,
                }
                for n, alert_id in seeded.alerts.items()
            ],
        )
    return seeded


def _links(html: str) -> set[int]:
    return {int(x) for x in ALERT_LINK.findall(html)}


@BOTH
def test_a_village_worker_sees_their_assigned_households_ranked(
    signed_in_client: Callable[[str], TestClient], contacts: Seeded
) -> None:
    page = signed_in_client("王芳").get("/visits")
    assert page.status_code == 200
    # households 0-2 of village A1 have tasks for 王芳; blue 3 is listed without a task
    assert _links(page.text) == {contacts.alerts[n] for n in (0, 1, 2)}
    assert "户主0" in page.text and "330502********1234" in page.text and "0组1号" in page.text
    assert "tier-red" in page.text and "下载 Excel" in page.text
    html = page.text
    assert html.index("户主0") < html.index("户主1") < html.index("户主2")  # ranked by tier, then rank


@BOTH
def test_an_officer_sees_their_town_and_filters_narrow_it(
    signed_in_client: Callable[[str], TestClient], contacts: Seeded
) -> None:
    officer = signed_in_client("李强")
    town = _links(officer.get("/visits").text)
    assert town == {contacts.alerts[n] for n in (0, 1, 2, 3, 10, 11)}
    red = officer.get("/visits", params={"tier": "red", "village": "", "status": ""})
    assert _links(red.text) == {contacts.alerts[0], contacts.alerts[10]}
    a2 = officer.get("/visits", params={"village": VILLAGE_A2})
    assert _links(a2.text) == {contacts.alerts[10], contacts.alerts[11]}
    assert 'href="/visits.xlsx?village=' + VILLAGE_A2 + '"' in a2.text
    assert f'<option value="{VILLAGE_A2}" selected>' in a2.text


def test_the_status_filter_follows_the_task(
    signed_in_client: Callable[[str], TestClient], contacts: Seeded, web_engine: Engine
) -> None:
    with transaction(web_engine) as session:
        task = session.execute(select(VisitTask).where(VisitTask.alert_id == contacts.alerts[1])).scalar_one()
        task.status = "closed"
    officer = signed_in_client("李强")
    assert _links(officer.get("/visits?status=closed").text) == {contacts.alerts[1]}
    assert contacts.alerts[1] not in _links(officer.get("/visits?status=new").text)


@BOTH
def test_another_village_or_a_malformed_one_answers_404(
    signed_in_client: Callable[[str], TestClient], contacts: Seeded
) -> None:
    worker = signed_in_client("王芳")
    for village in [VILLAGE_A2, VILLAGE_B1, "330502001999", "3305020010", "<script>", "../../etc"]:
        response = worker.get("/visits", params={"village": village})
        assert response.status_code == 404, village
        assert "户主" not in response.text
    assert signed_in_client("李强").get("/visits", params={"village": VILLAGE_B1}).status_code == 404


def test_bad_filters_are_refused_in_one_line(
    signed_in_client: Callable[[str], TestClient], contacts: Seeded
) -> None:
    worker = signed_in_client("王芳")
    assert worker.get("/visits?tier=purple").status_code == 400
    assert worker.get("/visits?status=done").status_code == 400
    assert worker.get("/visits?page=0").status_code == 400
    assert worker.get("/visits?page=x").status_code == 400


def test_who_may_see_it(
    client: TestClient, signed_in_client: Callable[[str], TestClient], contacts: Seeded
) -> None:
    anonymous = client.get("/visits?tier=red")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    assert signed_in_client("数据组").get("/visits").status_code == 403


def test_each_view_is_audited_with_the_count_and_no_names(
    signed_in_client: Callable[[str], TestClient], contacts: Seeded, web_engine: Engine
) -> None:
    signed_in_client("李强").get("/visits", params={"tier": "red"})
    audit = read_audit(web_engine)
    views = audit[audit["action"] == "view_visits"]
    assert len(views) == 1
    entry = views.iloc[0]
    assert entry["actor"] == "李强" and entry["detail"]["rows"] == 2 and entry["detail"]["tier"] == "red"
    assert "户主" not in str(entry.to_dict())


def test_english_and_pages(signed_in_client: Callable[[str], TestClient], contacts: Seeded) -> None:
    page = signed_in_client("赵敏").get("/visits?lang=en")
    assert "My visit list" in page.text and "Main reasons" in page.text
    assert "visits_" not in page.text  # every message key has a text
    assert 'rel="next"' not in page.text  # 8 rows fit on one page
    empty = signed_in_client("赵敏").get("/visits?page=3")
    assert empty.status_code == 200 and not _links(empty.text)


CELL_DISPLAY = "getComputedStyle(document.querySelector('table.stacked td')).display"


def test_the_page_on_a_phone(live_server: str, page: object, contacts: Seeded) -> None:
    pg = page  # a Playwright page (tests/web/conftest.py)
    pg.set_viewport_size({"width": 360, "height": 800})  # type: ignore[attr-defined]
    login(pg, live_server, "李强")
    pg.goto(f"{live_server}/visits")  # type: ignore[attr-defined]
    assert pg.locator("h1").inner_text() == "我的走访清单"  # type: ignore[attr-defined]
    assert pg.locator("a[href^='/alerts/']").count() == 6  # type: ignore[attr-defined]
    # nothing wider than the phone but the scrolling table
    width = pg.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 360
    assert pg.evaluate(CELL_DISPLAY) == "block"  # type: ignore[attr-defined]  # rows as labelled blocks
    pg.select_option("#f-tier", "red")  # type: ignore[attr-defined]
    pg.click("form.filters button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_load_state()  # type: ignore[attr-defined]
    assert "tier=red" in pg.url  # type: ignore[attr-defined]
    assert pg.locator("a[href^='/alerts/']").count() == 2  # type: ignore[attr-defined]
    pg.goto(f"{live_server}/visits")  # type: ignore[attr-defined]
    assert screenshot(pg, "visits-phone").stat().st_size > 10_000
    assert VILLAGE_A1  # the worker's village is on the page's filter
