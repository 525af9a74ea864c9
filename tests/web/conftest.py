"""Fixtures of the web tests: the app over a fresh outreach database (SQLite; PostgreSQL where a
test asks for it), seeded users of every role and a small visit list queued through
outreach.queue; a TestClient and signed-in clients; a live uvicorn server and a Playwright
Chromium page (Debian's /usr/bin/chromium); screenshots to build/screenshots/.

- ``client``: an anonymous TestClient on https://testserver (Secure cookies are sent).
- ``signed_in_client("王芳")``: a TestClient signed in through the real /login form.
- ``clock``: the app's clock (``clock.advance(minutes=31)``); it starts at NOW.
- ``web_db_url``: SQLite by default; ``@pytest.mark.parametrize("web_db_url", ["sqlite",
  "postgresql"], indirect=True)`` runs a test on both.
- ``live_server`` (its base URL) and ``page`` (a Chromium page); ``login(page, base, name)``
  signs in through the form; ``screenshot(page, name)`` writes build/screenshots/<name>.png.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from lowinc.home import HomeLayout
from outreach.accounts import add_user, hash_password
from outreach.config import OutreachConfig
from outreach.db import transaction, upgrade
from outreach.queue import queue_alerts
from outreach.schema import Alert
from outreach.web.app import create_app
from outreach.web.config import WebConfig
from outreach.web.context import WebContext
from tests.outreach.factory import (
    COUNTY,
    TOWN_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    household_key,
    make_config,
    visit_list,
)
from tests.postgres import free_port, new_database

with warnings.catch_warnings():  # starlette's TestClient asks for httpx2, which is not in the lock
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = dt.datetime(2024, 6, 3, 9, 0, 0)  # UTC; the visit list is of 2024-06-01
PASSWORD = "correct horse battery staple"  # every seeded user's
# name -> (role, areas): two workers of town A's villages, one of town B's, one officer each
USERS: dict[str, tuple[str, list[str]]] = {
    "王芳": ("village_worker", [VILLAGE_A1]),
    "陈刚": ("village_worker", [VILLAGE_A2]),
    "刘洋": ("village_worker", [VILLAGE_B1]),
    "李强": ("town_officer", [TOWN_A]),
    "赵敏": ("county_officer", [COUNTY]),
    "数据组": ("data_team", []),
    "模型负责人": ("model_owner", []),
}
# households 0-9 in village A1, 10-19 in A2, 20+ in B1 (tests/outreach/factory.py)
TIERS = {0: "red", 1: "orange", 2: "yellow", 3: "blue", 10: "red", 11: "orange", 20: "red", 21: "yellow"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    """The app's clock: fixed at NOW until a test moves it."""

    moment: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.moment.replace(tzinfo=dt.UTC)

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@dataclass
class Seeded:
    """What the seed made: user ids by name, alert ids by household number."""

    users: dict[str, int] = field(default_factory=dict)
    alerts: dict[int, int] = field(default_factory=dict)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One Argon2id hash of PASSWORD for every seeded user (hashing each would cost ~0.1 s)."""
    return hash_password(PASSWORD)


@pytest.fixture
def web_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty outreach database URL (SQLite unless parametrized with "postgresql")."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'outreach.db'}"
        return
    yield new_database(request.getfixturevalue("postgres_server"), "w")


@pytest.fixture
def outreach_config() -> OutreachConfig:
    """The factory's channels and retry policy, no configured users (the seeded ones are cli),
    the web section with the TestClient's host allowed."""
    base = make_config()
    return base.model_copy(update={"users": [], "web": WebConfig(allowed_hosts=["127.0.0.1", "testserver"])})


@pytest.fixture
def web_engine(web_db_url: str) -> Iterator[Engine]:
    """The migrated, empty outreach database."""
    engine = upgrade(web_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(web_engine: Engine, outreach_config: OutreachConfig, password_hash: str) -> Seeded:
    """USERS (origin cli, password PASSWORD) and the visit list of TIERS, queued (tasks assigned
    to the village workers)."""
    result = Seeded()
    with transaction(web_engine) as session:
        for name, (role, areas) in USERS.items():
            user = add_user(session, name, role, areas, None, "cli", NOW, password_hash=password_hash)
            result.users[name] = user.id
    queue_alerts(web_engine, visit_list(TIERS), "run-web", NOW, config=outreach_config)
    keys = {household_key(n): n for n in TIERS}
    with transaction(web_engine) as session:
        for alert_id, key in session.execute(select(Alert.id, Alert.household_key)):
            result.alerts[keys[key]] = alert_id
    return result


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web_context(
    web_engine: Engine, seeded: Seeded, outreach_config: OutreachConfig, tmp_path: Path, clock: Clock
) -> WebContext:
    home = tmp_path / "home"
    return WebContext(engine=web_engine, layout=HomeLayout(home), outreach=outreach_config, clock=clock)


@pytest.fixture
def app(web_context: WebContext) -> FastAPI:
    return create_app(web_context)


def csrf_from(html: str) -> str:
    """The csrf_token of the first form on a page."""
    found = CSRF_INPUT.search(html)
    assert found, "no csrf_token on the page"
    return found.group(1)


def new_client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "") -> Any:
    """Post the real sign-in form (after GET /login for its token); the response."""
    form = client.get("/login")
    data = {"username": name, "password": password, "csrf_token": csrf_from(form.text), "next": next_path}
    return client.post("/login", data=data)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with new_client(app) as c:
        yield c


@pytest.fixture
def signed_in_client(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A factory: ``signed_in_client("王芳")`` is a TestClient with 王芳's session."""
    made: list[TestClient] = []

    def make(name: str) -> TestClient:
        c = new_client(app)
        response = sign_in(c, name)
        assert response.status_code == 303, f"sign-in of {name} failed: {response.status_code}"
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn in a thread on a free 127.0.0.1 port; its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", server_header=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True  # do not wait for the browser's keep-alive connections
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (Debian's; Playwright downloads none)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-packages)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (no cookies from another test), phone-sized by default
    when a test passes its own viewport via page.set_viewport_size."""
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def login(page: Any, base: str, name: str, password: str = PASSWORD) -> None:
    """Sign in through the real form in the browser."""
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG at build/screenshots/<name>.png (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
