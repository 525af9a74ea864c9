"""The field loop end to end in Chromium over the real server and database: a village worker
signs in, opens her list, opens a household, records confirmed hardship with needs and a
referral through the form, sees the status change on /visits; the outcome is a positive label
for that household's window; another village's worker gets 404 by URL and by form post.
Screenshots of /login, /visits, /alerts/{id} and /dashboard go to build/screenshots/ (and the
/visits and /alerts ones to docs/img/ when LOWINC_UPDATE_DOCS_IMG=1)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from features.labels import observable_label
from features.spine import Spine, key_index
from outreach.outcomes import visit_outcomes
from outreach.schema import OutcomeNeed, Referral, VisitOutcome, VisitTask
from outreach.web.context import WebContext
from pipelines.outreach.dispatch import write_list_contacts
from tests.outreach.factory import household_key, visit_list
from tests.outreach.hukou_home import write_home
from tests.web.conftest import SCREENSHOTS, TIERS, Seeded, csrf_from, login, screenshot

pytestmark = pytest.mark.integration
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
Client = Callable[[str], TestClient]


@pytest.fixture
def home(web_context: WebContext, web_engine: Engine) -> Path:
    """The app's home with the hukou of the listed households and the list's contacts."""
    root = web_context.layout.root
    write_home(root)
    write_list_contacts(web_engine, root, visit_list(TIERS))
    return root


def label_for(engine: Engine, key: str, other: str) -> dict[str, object]:
    """The observable label of two households at the list's as-of date, visits from the
    outreach database (as the next feature build reads them)."""
    spine = Spine(
        as_of=pd.Timestamp("2024-06-01"),
        households=pd.DataFrame({"household_key": [key, other]}),
        members=pd.DataFrame({"person_key": [], "hh": [], "relation": [], "birth_date": [], "age": []}),
        person_index=key_index(pd.Index([], dtype=object)),
        household_index=key_index(pd.Series([key, other])),
    )
    empty = pd.DataFrame({"person_key": [], "category": [], "aid_type": [], "event_date": []})
    label, complete = observable_label(
        spine, np.ones(2, bool), empty, empty, 6, "2024-11", visits=visit_outcomes(engine)
    )
    return {"visited": bool(label[0]), "other": bool(label[1]), "complete": bool(complete.all())}


def copy_to_docs(path: Path, name: str) -> None:
    if os.environ.get("LOWINC_UPDATE_DOCS_IMG") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / name)


def test_a_worker_records_an_outcome_in_chromium_and_it_becomes_a_label(
    home: Path, seeded: Seeded, live_server: str, page, web_engine: Engine, signed_in_client: Client
) -> None:
    alert = seeded.alerts[0]  # household 0 of village A1, red, 王芳's
    page.goto(f"{live_server}/login")
    screenshot(page, "login")
    login(page, live_server, "王芳")
    assert page.url == f"{live_server}/visits"
    row = page.locator(f"tr:has(a[href='/alerts/{alert}'])")
    assert "待走访" in row.inner_text()
    screenshot(page, "visits")

    page.click(f"a[href='/alerts/{alert}']")
    page.wait_for_url(f"{live_server}/alerts/{alert}")
    assert "李桂英" in page.inner_text("main")  # the stand-in, for the entitled worker
    page.fill("#visited_on", "2024-06-02")
    page.check("input[name=result][value=confirmed]")
    page.check("input[name=needs][value=medical]")
    page.check("input[name=needs][value=basic_living]")
    page.check("input[name=routes][value=medical_aid]")  # handled by 医保局: a referral
    page.check("input[name=routes][value=dibao]")
    page.fill("#note", "户主去世，配偶重度残疾，医疗负担重")
    screenshot(page, "alert")
    page.click("#outcome button[type=submit]")
    page.wait_for_url(f"{live_server}/alerts/{alert}?recorded=1#outcome")
    assert page.locator("p.notice").count() == 1

    page.goto(f"{live_server}/visits")
    assert "已走访" in page.locator(f"tr:has(a[href='/alerts/{alert}'])").inner_text()

    with web_engine.connect() as connection:
        outcome = connection.execute(select(VisitOutcome)).one()
        assert (outcome.result, outcome.source, outcome.recorded_by) == ("confirmed", "web", "王芳")
        needs = set(connection.execute(select(OutcomeNeed.category)).scalars())
        assert needs == {"medical", "basic_living"}
        referral = connection.execute(select(Referral)).one()
        assert (referral.route, referral.department, referral.status) == ("medical_aid", "医保局", "sent")
        status = connection.execute(select(VisitTask.status).where(VisitTask.alert_id == alert)).scalar_one()
        assert status == "visited"
    assert label_for(web_engine, household_key(0), household_key(1)) == {
        "visited": True,
        "other": False,
        "complete": True,
    }

    # another village's worker: 404 by URL and by form post, and nothing recorded
    other = signed_in_client("刘洋")
    assert other.get(f"/alerts/{alert}").status_code == 404
    token = csrf_from(other.get(f"/alerts/{seeded.alerts[20]}").text)
    posted = other.post(
        f"/alerts/{alert}/outcome",
        data={"csrf_token": token, "visited_on": "2024-06-02", "result": "no_hardship"},
    )
    assert posted.status_code == 404
    with web_engine.connect() as connection:
        assert len(connection.execute(select(VisitOutcome.id)).all()) == 1

    # the township officer's dashboard
    page.context.clear_cookies()
    login(page, live_server, "李强")
    page.goto(f"{live_server}/dashboard")
    assert page.locator("main h1").count() == 1
    screenshot(page, "dashboard")

    copy_to_docs(SCREENSHOTS / "visits.png", "visits.png")
    copy_to_docs(SCREENSHOTS / "alert.png", "alert.png")
