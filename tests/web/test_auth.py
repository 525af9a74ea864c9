"""Sign-in, sessions, CSRF and the security headers of the web page, over the real app."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, sign_in


def test_a_user_signs_in_with_the_right_password_and_is_sent_to_next(client):
    response = sign_in(client, "王芳", next_path="/visits?tier=red")
    assert response.status_code == 303
    assert response.headers["location"] == "/visits?tier=red"
    assert "lowinc_session" in client.cookies


def test_a_wrong_password_is_refused_with_the_generic_message(client):
    response = sign_in(client, "王芳", password=PASSWORD + "x")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert "lowinc_session" not in client.cookies


def test_logout_needs_the_csrf_token(signed_in_client):
    c = signed_in_client("王芳")
    assert c.post("/logout", data={}).status_code == 403
    page = c.get("/login?next=/x")  # signed in: goes on
    assert page.status_code == 303


def test_chromium_signs_in_through_the_real_form_over_http_127_0_0_1(live_server, page):
    from tests.web.conftest import login, screenshot

    page.goto(f"{live_server}/login")
    screenshot(page, "login")
    login(page, live_server, "王芳")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["lowinc_session"]["secure"] and cookies["lowinc_session"]["httpOnly"]
    print(page.url, page.title())
