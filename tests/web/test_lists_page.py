"""/lists: the reverify, phase-out, entitlement and unlinked lists within the user's area, named,
linked to the month's alerts, audited once per view; bad kinds and months; in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from outreach.audit import read_audit
from outreach.contacts import household_code
from outreach.web.context import WebContext
from tests.outreach.factory import household_key
from tests.outreach.hukou_home import people, write_home
from tests.outreach.lists_home import UNLINKED_ID_A, UNLINKED_ID_B, write_lists, write_unlinked
from tests.web.conftest import Seeded, login, screenshot

Client = Callable[[str], TestClient]
BOTH = pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def home(web_context: WebContext, seeded: Seeded) -> Path:
    """The app's home with the hukou of households 0-3 and 10 and the lists of 2024-06-01."""
    root = web_context.layout.root
    write_home(root)
    write_lists(web_context.layout)
    return root


def _code(n: int) -> str:
    return household_code(household_key(n))


@BOTH
def test_a_worker_sees_their_villages_named_and_linked(
    home: Path, seeded: Seeded, signed_in_client: Client
) -> None:
    page = signed_in_client("王芳").get("/lists")
    assert page.status_code == 200
    html = page.text
    assert _code(0) in html and _code(1) in html
    assert _code(10) not in html and _code(20) not in html  # another village, another town
    assert "李桂英" in html and "赵一" in html  # household 0's spouse stands in; household 1's head
    spouse = next(p for p in people() if p.name == "李桂英")
    assert spouse.id_no[:6] + "********" + spouse.id_no[-4:] in html
    assert not any(p.id_no in html for p in people())
    assert f'href="/alerts/{seeded.alerts[0]}"' in html and f'href="/alerts/{seeded.alerts[1]}"' in html
    assert html.index("李桂英") < html.index("赵一")  # by rank in the town
    assert "新登记车辆 1 辆" in html and "2024-06-14" in html
    assert 'aria-current="page"' in html and "style=" not in html and "<script" not in html


def test_another_townships_worker_sees_none_of_them(home: Path, signed_in_client: Client) -> None:
    for kind in ("reverify", "phase_out", "entitlement"):
        html = signed_in_client("刘洋").get(f"/lists?kind={kind}").text
        assert not any(_code(n) in html for n in (0, 1, 2, 3, 10))
        assert "李桂英" not in html and "赵一" not in html
    assert _code(20) in signed_in_client("刘洋").get("/lists").text


@BOTH
def test_an_officer_sees_the_county(home: Path, signed_in_client: Client) -> None:
    county = signed_in_client("赵敏")
    html = county.get("/lists?kind=reverify").text
    assert all(_code(n) in html for n in (0, 1, 10, 20))
    assert html.index(_code(10)) < html.index(_code(20))  # town A before town B
    assert _code(2) in county.get("/lists?kind=phase_out").text
    town = signed_in_client("李强").get("/lists").text
    assert all(_code(n) in town for n in (0, 1, 10)) and _code(20) not in town


def test_the_entitlement_tab_lists_only_eligible_and_not_receiving(
    home: Path, signed_in_client: Client
) -> None:
    html = signed_in_client("赵敏").get("/lists?kind=entitlement").text
    assert "仅供参考，不作为认定依据" in html
    assert _code(0) in html and _code(20) in html
    assert _code(1) not in html  # eligible, but receiving
    assert _code(3) not in html  # not likely eligible
    assert "医疗救助" in html and "临时救助" in html and "12,400" in html and "700" in html
    assert "近12个月医疗自付 2.6 万元" in html and "在保" not in html


def test_each_view_is_audited_once_with_kind_and_count(
    home: Path, signed_in_client: Client, web_engine: Engine
) -> None:
    signed_in_client("李强").get("/lists?kind=reverify&as_of=2024-06-01")
    views = read_audit(web_engine)
    views = views[views["action"] == "view_lists"]
    assert len(views) == 1
    entry = views.iloc[0]
    assert entry["actor"] == "李强" and entry["target"] == "lists:reverify:2024-06-01"
    assert entry["detail"]["kind"] == "reverify" and entry["detail"]["rows"] == 3
    assert "李桂英" not in str(entry.to_dict())


def test_the_unlinked_tab(home: Path, web_context: WebContext, signed_in_client: Client) -> None:
    worker = signed_in_client("王芳")
    absent = worker.get("/lists?kind=unlinked")
    assert absent.status_code == 200 and "本月没有这份清单" in absent.text
    write_unlinked(web_context.layout)
    html = worker.get("/lists?kind=unlinked").text
    assert "外来甲" in html and "外来乙" not in html  # B1's person is another township's
    assert UNLINKED_ID_A[:6] + "********" + UNLINKED_ID_A[-4:] in html and UNLINKED_ID_A not in html
    assert "就业登记、残疾人证" in html and "employment_registrations" not in html  # sources by name
    assert "在本地参保 14 个月" in html
    county = signed_in_client("赵敏").get("/lists?kind=unlinked&lang=en").text
    assert "外来乙" in county and UNLINKED_ID_B not in county and "No local hukou" in county
    assert "medical settlements" in county


def test_bad_kind_and_month_answer_a_page_not_a_traceback(home: Path, signed_in_client: Client) -> None:
    worker = signed_in_client("王芳")
    bad = worker.get("/lists?kind=everyone")
    assert bad.status_code == 400 and "unknown list" in bad.text
    assert worker.get("/lists?as_of=June").status_code == 400
    assert worker.get("/lists?as_of=2024-02-30").status_code == 400
    assert worker.get("/lists?as_of=2023-01-01").status_code == 404
    assert worker.get("/lists?page=0").status_code == 400
    assert "Traceback" not in bad.text


def test_who_may_see_it_and_the_nav_link(
    client: TestClient, home: Path, signed_in_client: Client, web_context: WebContext
) -> None:
    anonymous = client.get("/lists")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    assert signed_in_client("数据组").get("/lists").status_code == 403
    assert 'href="/lists"' in signed_in_client("王芳").get("/visits").text
    english = signed_in_client("王芳").get("/lists?lang=en").text
    assert "Other lists" in english and "lists_" not in english  # every message key has a text


def test_no_lists_yet(web_context: WebContext, signed_in_client: Client) -> None:
    page = signed_in_client("王芳").get("/lists")
    assert page.status_code == 200 and "还没有任何清单" in page.text


CELL_DISPLAY = "getComputedStyle(document.querySelector('table.stacked td')).display"


def test_the_page_in_chromium(live_server: str, page: object, home: Path) -> None:
    pg = page  # a Playwright page (tests/web/conftest.py)
    pg.set_viewport_size({"width": 360, "height": 800})  # type: ignore[attr-defined]
    login(pg, live_server, "李强")
    pg.goto(f"{live_server}/lists")  # type: ignore[attr-defined]
    assert pg.locator("table.lists tbody tr").count() == 3  # type: ignore[attr-defined]
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360  # type: ignore[attr-defined]
    assert pg.evaluate(CELL_DISPLAY) == "block"  # type: ignore[attr-defined]  # rows as labelled blocks
    pg.click("nav.tabs a:has-text('应救尽救')")  # type: ignore[attr-defined]
    pg.wait_for_load_state()  # type: ignore[attr-defined]
    assert "kind=entitlement" in pg.url  # type: ignore[attr-defined]
    assert pg.locator(".reference-only").inner_text() == "仅供参考，不作为认定依据"  # type: ignore[attr-defined]
    pg.click("form button[type=submit]:has-text('查看')")  # type: ignore[attr-defined]
    pg.wait_for_load_state()  # type: ignore[attr-defined]
    assert "as_of=2024-06-01" in pg.url and "kind=entitlement" in pg.url  # type: ignore[attr-defined]
    assert screenshot(pg, "lists-phone").stat().st_size > 10_000
    pg.set_viewport_size({"width": 1024, "height": 800})  # type: ignore[attr-defined]
    pg.goto(f"{live_server}/lists?kind=reverify")  # type: ignore[attr-defined]
    assert pg.locator("a[href^='/alerts/']").count() == 3  # type: ignore[attr-defined]
    assert pg.evaluate(CELL_DISPLAY) == "table-cell"  # type: ignore[attr-defined]  # the table from 720 px
    assert screenshot(pg, "lists").stat().st_size > 10_000
