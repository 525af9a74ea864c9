"""Sign-in, sessions, CSRF, the security headers and error pages of the web page, over the real
app and database (and Chromium for the form)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.accounts import disable_user, reset_password
from outreach.audit import read_audit
from outreach.db import transaction
from outreach.schema import LoginAttempt, User, WebSession
from outreach.web.app import create_app
from outreach.web.config import WebConfig
from outreach.web.deps import SESSION_COOKIE, SignedIn, require
from outreach.web.sessions import token_hash
from tests.web.conftest import NOW, PASSWORD, TestClient, csrf_from, login, new_client, screenshot, sign_in

GENERIC = "用户名或密码错误"
CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"


def session_cookie_header(response) -> str:
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE + "="))


@pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_user_signs_in_and_is_sent_to_the_local_next_page(client, web_engine):
    response = sign_in(client, "王芳", next_path="/visits?tier=red")
    assert response.status_code == 303
    assert response.headers["location"] == "/visits?tier=red"
    cookie = session_cookie_header(response).lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    account = client.get("/account")
    assert account.status_code == 200 and "王芳" in account.text and "330502001005" in account.text
    with Session(web_engine) as session:  # the table keeps the token's hash, never the token
        token = client.cookies[SESSION_COOKIE]
        assert session.get(WebSession, token_hash(token)) is not None
        assert session.execute(select(WebSession).where(WebSession.id == token)).first() is None
        assert session.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == 1


def test_every_failure_gives_the_same_answer_and_is_audited_without_the_password(client, web_engine):
    with transaction(web_engine) as session:
        disable_user(session, "陈刚", NOW)
    answers = [
        sign_in(client, "王芳", password=PASSWORD + "x"),  # wrong password
        sign_in(client, "无此人", password=PASSWORD),  # unknown user
        sign_in(client, "陈刚", password=PASSWORD),  # disabled, right password
    ]
    assert {a.status_code for a in answers} == {401}
    assert all(GENERIC in a.text for a in answers)
    assert len({a.text.split('name="csrf_token"')[0] for a in answers}) == 1  # same page up to the token
    assert SESSION_COOKIE not in client.cookies
    audit = read_audit(web_engine)
    failed = audit[audit["action"] == "login_failed"]
    assert sorted(r["reason"] for r in failed["detail"]) == ["disabled", "unknown_user", "wrong_password"]
    assert not audit["detail"].astype(str).str.contains(PASSWORD).any()


@pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_account_locks_after_repeated_failures_with_the_same_error_then_unlocks(client, clock):
    for _ in range(5):
        assert sign_in(client, "王芳", password="not the password at all").status_code == 401
    locked = sign_in(client, "王芳")  # the right password while locked: the same answer
    assert locked.status_code == 401 and GENERIC in locked.text
    clock.advance(minutes=16)
    assert sign_in(client, "王芳").status_code == 303


def test_a_success_resets_the_count_of_consecutive_failures(client, web_engine):
    for _ in range(4):
        sign_in(client, "王芳", password="not the password at all")
    assert sign_in(client, "王芳").status_code == 303
    with Session(web_engine) as session:
        user = session.execute(select(User).where(User.name == "王芳")).scalar_one()
        assert user.failed_logins == 0 and user.locked_until is None


def test_one_client_is_rate_limited_across_user_names(web_context, clock):
    strict = web_context.outreach.model_copy(
        update={
            "web": WebConfig(
                allowed_hosts=["testserver"], rate_limit_attempts=3, rate_limit_window_minutes=10
            )
        }
    )
    with new_client(create_app(dataclasses.replace(web_context, outreach=strict))) as c:
        for name in ["甲", "乙", "丙"]:
            assert sign_in(c, name, password="whatever it may be").status_code == 401
        limited = sign_in(c, "王芳")  # even the right password of another account waits
        assert limited.status_code == 429 and "过多" in limited.text
        clock.advance(minutes=11)
        assert sign_in(c, "王芳").status_code == 303


@pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)
def test_sign_in_rotates_the_session_and_the_old_token_is_refused(signed_in_client, app):
    c = signed_in_client("王芳")
    before = c.cookies[SESSION_COOKIE]
    c.cookies.delete(SESSION_COOKIE)  # a sign-in form opened before (signed in, /login goes on)
    form = c.get("/login")
    domain = next(cookie.domain for cookie in c.cookies.jar)
    c.cookies.set(SESSION_COOKIE, before, domain=domain)
    data = {"username": "李强", "password": PASSWORD, "csrf_token": csrf_from(form.text)}
    assert c.post("/login", data=data).status_code == 303  # a new sign-in on the same browser
    after = c.cookies[SESSION_COOKIE]
    assert before != after
    with new_client(app) as stale:
        stale.cookies.set(SESSION_COOKIE, before)
        response = stale.get("/account")
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert "李强" in c.get("/account").text


def test_the_sign_in_form_token_is_not_a_session(client):
    client.get("/login")
    nonce = client.cookies["lowinc_login"]
    client.cookies.set(SESSION_COOKIE, nonce)
    assert client.get("/account").status_code == 303


@pytest.mark.parametrize("web_db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_session_ends_after_the_idle_timeout_and_at_the_absolute_limit(signed_in_client, clock):
    c = signed_in_client("王芳")
    clock.advance(minutes=29)
    assert c.get("/account").status_code == 200  # activity keeps it alive
    clock.advance(minutes=31)
    assert c.get("/account").status_code == 303
    d = signed_in_client("王芳")
    for _ in range(12 * 60 // 25 + 1):  # active every 25 minutes, past 12 hours
        clock.advance(minutes=25)
        status = d.get("/account").status_code
    assert status == 303


def test_logout_revokes_the_session_on_the_server(signed_in_client, app):
    c = signed_in_client("王芳")
    token = c.cookies[SESSION_COOKIE]
    page = c.get("/account")
    response = c.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login?bye=1"
    with new_client(app) as replay:
        replay.cookies.set(SESSION_COOKIE, token)
        assert replay.get("/account").status_code == 303


def test_disabling_a_user_or_resetting_a_password_ends_their_sessions(signed_in_client, web_engine):
    a, b = signed_in_client("王芳"), signed_in_client("李强")
    with transaction(web_engine) as session:
        disable_user(session, "王芳", NOW)
        reset_password(session, "李强", "a brand new passphrase", NOW)
    assert a.get("/account").status_code == 303
    assert b.get("/account").status_code == 303


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_post_without_the_right_csrf_token_is_refused(signed_in_client, token, web_engine):
    c = signed_in_client("王芳")
    data = {} if token is None else {"csrf_token": token}
    response = c.post("/logout", data=data)
    assert response.status_code == 403
    assert c.get("/account").status_code == 200  # still signed in: the POST did nothing
    assert "csrf_denied" in set(read_audit(web_engine)["action"])


def test_the_sign_in_form_needs_its_own_token(client):
    client.get("/login")
    response = client.post("/login", data={"username": "王芳", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403 and SESSION_COOKIE not in client.cookies
    client.cookies.clear()  # a token without its cookie (another browser's form) is refused too
    form = client.get("/login")
    token = csrf_from(form.text)
    client.cookies.clear()
    response = client.post("/login", data={"username": "王芳", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 403


def test_pages_without_a_session_go_to_sign_in_and_posts_are_refused(client):
    response = client.get("/account?x=1")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Faccount%3Fx%3D1"
    assert client.post("/logout", data={"csrf_token": "x"}).status_code == 403
    assert client.get("/").headers["location"] == "/visits"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\\\\evil",
        "/x\r\nSet-Cookie: a=b",
    ],
)
def test_sign_in_never_redirects_off_site(client, target):
    response = sign_in(client, "王芳", next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/visits"


def test_security_headers_are_on_every_response(client, signed_in_client):
    c = signed_in_client("王芳")
    for response in [
        client.get("/login"),
        client.get("/nope"),
        c.get("/account"),
        client.get("/static/app.css"),
    ]:
        headers = response.headers
        assert headers["content-security-policy"] == CSP
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["strict-transport-security"].startswith("max-age=")  # the client speaks https
    assert c.get("/account").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")


def test_no_hsts_over_plain_http_and_unknown_hosts_are_refused(app):
    with TestClient(app, base_url="http://127.0.0.1") as plain:
        assert "strict-transport-security" not in plain.get("/login").headers
    with TestClient(app, base_url="https://evil.example") as other:
        response = other.get("/login")
        assert response.status_code == 400 and "x-frame-options" in response.headers


def test_an_unhandled_error_shows_no_traceback_and_no_message(app, client):
    def boom() -> None:
        raise RuntimeError("张三 330502196001010010 东村3组")

    app.add_api_route("/boom", boom)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "出错了" in response.text
    assert (
        "Traceback" not in response.text
        and "张三" not in response.text
        and "RuntimeError" not in response.text
    )
    assert response.headers["x-frame-options"] == "DENY"


def test_invalid_form_input_answers_400_without_echoing_it(client):
    client.get("/login")
    response = client.post("/login", data={"username": "x" * 5000, "password": "p", "csrf_token": "t"})
    assert response.status_code == 400 and "xxxxxxxxxx" not in response.text


def test_a_role_without_the_permission_gets_403_and_it_is_audited(app, signed_in_client, web_engine):
    router = APIRouter()

    @router.get("/probe")
    def probe(who: Annotated[SignedIn, Depends(require("view_household"))]) -> dict[str, str]:
        return {"name": who.user.name}

    app.include_router(router)
    assert signed_in_client("王芳").get("/probe").json() == {"name": "王芳"}
    response = signed_in_client("数据组").get("/probe")
    assert response.status_code == 403 and "无权" in response.text
    audit = read_audit(web_engine)
    assert ((audit["action"] == "view_household_denied") & (audit["actor"] == "数据组")).any()


def test_the_language_switch_keeps_english(client):
    english = client.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert '<html lang="en">' in client.get("/login").text  # the cookie keeps the choice
    assert '<html lang="zh-CN">' in client.get("/login?lang=zh").text


def test_chromium_signs_in_through_the_real_form_over_http_127_0_0_1(live_server, page):
    page.goto(f"{live_server}/login")
    assert page.locator("label[for=username]").inner_text() == "用户名"
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.click("button[data-show-password]")  # the one script runs under the CSP
    assert page.get_attribute("#password", "type") == "text"
    page.click("button[data-show-password]")
    assert not errors  # no CSP violation or script error
    screenshot(page, "login")
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "login-phone")
    login(page, live_server, "王芳")
    cookies = {c["name"]: c for c in page.context.cookies()}
    # Chromium keeps a Secure cookie on http://127.0.0.1 (a potentially trustworthy origin)
    assert cookies[SESSION_COOKIE]["secure"] and cookies[SESSION_COOKIE]["httpOnly"]
    page.goto(f"{live_server}/account")
    assert "王芳" in page.inner_text("main")
    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{live_server}/login?bye=1")
    assert "您已退出登录" in page.inner_text("main")


def test_a_user_changes_their_own_password_and_other_sessions_end(signed_in_client, client):
    c, elsewhere = signed_in_client("王芳"), signed_in_client("王芳")
    token = csrf_from(c.get("/account").text)
    new = "二月春风似剪刀 grass"
    form = {"current_password": PASSWORD, "new_password": new, "new_password_again": new, "csrf_token": token}
    response = c.post("/account/password", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/account?changed=1"
    assert "密码已修改" in c.get("/account?changed=1").text  # this browser got a fresh session
    assert elsewhere.get("/account").status_code == 303  # the other one is signed out
    assert sign_in(client, "王芳", password=new).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "again", "status", "text"),
    [
        ("wrong current pass", "a good new passphrase", "a good new passphrase", 403, "当前密码不正确"),
        (PASSWORD, "a good new passphrase", "a different passphrase", 400, "不一致"),
        (PASSWORD, "password1234", "password1234", 400, "常见或已泄露"),
        (PASSWORD, "王芳的新密码很长很长很长很长", "王芳的新密码很长很长很长很长", 400, "不能包含用户名"),
    ],
)
def test_a_password_change_is_refused_without_the_current_password_or_with_a_weak_one(
    signed_in_client, current, new, again, status, text
):
    c = signed_in_client("王芳")
    token = csrf_from(c.get("/account").text)
    form = {
        "current_password": current,
        "new_password": new,
        "new_password_again": again,
        "csrf_token": token,
    }
    response = c.post("/account/password", data=form)
    assert response.status_code == status and text in response.text
    assert c.get("/account").status_code == 200  # still signed in, password unchanged


def test_sessions_ended_long_ago_are_purged_at_the_next_sign_in(signed_in_client, web_engine, clock):
    signed_in_client("王芳")
    clock.advance(hours=12 + 25)  # past the absolute limit, and a day more
    signed_in_client("李强")
    with Session(web_engine) as session:
        names = session.execute(select(User.name).join(WebSession, WebSession.user_id == User.id)).scalars()
        assert list(names) == ["李强"]


def test_behind_a_trusted_proxy_its_forwarded_address_and_scheme_count(web_context, clock):
    # the TestClient's peer is "testclient": configured as the proxy
    proxied = web_context.outreach.model_copy(
        update={
            "web": WebConfig(
                allowed_hosts=["testserver"], trusted_proxies=["testclient"], rate_limit_attempts=2
            )
        }
    )
    with TestClient(
        create_app(dataclasses.replace(web_context, outreach=proxied)), base_url="http://testserver"
    ) as c:
        forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}
        assert c.get("/login", headers=forwarded).headers["strict-transport-security"].startswith("max-age")
        assert "strict-transport-security" not in c.get("/login").headers
    with Session(web_context.engine) as session:
        session.add_all(
            [LoginAttempt(at=NOW, username="x", client="203.0.113.9", ok=False) for _ in range(2)]
        )
        session.commit()
    with new_client(create_app(dataclasses.replace(web_context, outreach=proxied))) as c:
        form = c.get("/login")
        data = {"username": "王芳", "password": PASSWORD, "csrf_token": csrf_from(form.text)}
        assert c.post("/login", data=data, headers={"x-forwarded-for": "203.0.113.9"}).status_code == 429
        form = c.get("/login")
        data["csrf_token"] = csrf_from(form.text)
        assert c.post("/login", data=data, headers={"x-forwarded-for": "198.51.100.7"}).status_code == 303


def test_a_404_says_nothing_but_keeps_the_signed_in_frame(signed_in_client, client):
    page = signed_in_client("王芳").get("/no/such/page")
    assert page.status_code == 404 and "退出登录" in page.text and "未找到" in page.text
    anonymous = client.get("/no/such/page")
    assert anonymous.status_code == 404 and "退出登录" not in anonymous.text


@pytest.mark.parametrize("web_db_url", ["postgresql"], indirect=True)
def test_concurrent_failures_all_count_toward_the_lockout(seeded, web_engine):
    from concurrent.futures import ThreadPoolExecutor

    from outreach.accounts import LoginFailed, authenticate

    def attempt(i: int) -> None:
        with Session(web_engine) as session:
            try:
                authenticate(session, "王芳", f"wrong password {i:04d}", f"10.0.0.{i}", NOW)
            except LoginFailed:
                session.commit()

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(attempt, range(5)))
    with Session(web_engine) as session:
        user = session.execute(select(User).where(User.name == "王芳")).scalar_one()
        assert user.locked_until is not None  # five at once still lock
