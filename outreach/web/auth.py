"""Sign-in and sign-out (/login, /logout), and / which opens the visit list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from outreach.accounts import (
    LoginFailed,
    LoginPolicy,
    PasswordRefused,
    RateLimited,
    authenticate,
    change_password,
    check_password,
)
from outreach.db import transaction
from outreach.web.context import WebContext
from outreach.web.deps import (
    LOGIN_COOKIE,
    SignedIn,
    client_address,
    csrf_checked,
    render,
    safe_next,
    session_cookie_name,
    session_token,
    signed_in,
    web_context,
)
from outreach.web.i18n import translate
from outreach.web.sessions import (
    find_session,
    login_form_token,
    login_form_valid,
    new_login_nonce,
    purge_ended,
    revoke_session,
    start_session,
)

router = APIRouter()
MAX_FIELD = 1000  # characters of a user name or password form field read at most


def login_policy(ctx: WebContext) -> LoginPolicy:
    web = ctx.web
    return LoginPolicy(
        lockout_threshold=web.lockout_threshold,
        lockout_minutes=web.lockout_minutes,
        rate_limit_attempts=web.rate_limit_attempts,
        rate_limit_window_minutes=web.rate_limit_window_minutes,
    )


def _login_page(request: Request, next_path: str, message: str | None, status_code: int = 200) -> Response:
    ctx = web_context(request)
    nonce = new_login_nonce(ctx.now())
    response = render(
        request,
        "login.html",
        status_code=status_code,
        csrf_token=login_form_token(request.app.state.secret_key, nonce),
        next_path=next_path,
        message=message,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=2 * 3600,
        path="/login",
        secure=ctx.web.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


@router.api_route("/", methods=["GET", "HEAD"])
def start_page() -> RedirectResponse:
    return RedirectResponse("/visits", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None, bye: str | None = None) -> Response:
    """The sign-in form; someone signed in already goes straight on."""
    ctx = web_context(request)
    next_path = safe_next(next)
    with transaction(ctx.engine) as session:
        open_session = find_session(session, session_token(request), ctx.now(), ctx.web)
    if open_session is not None:
        return RedirectResponse(next_path, status_code=303)
    message = "login_signed_out" if bye == "1" else None
    return _login_page(request, next_path, message)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the form's token, then the password; a new session (rotation) on success."""
    ctx = web_context(request)
    now = ctx.now()
    next_path = safe_next(next)
    if not login_form_valid(request.app.state.secret_key, request.cookies.get(LOGIN_COOKIE), csrf_token, now):
        return _login_page(request, next_path, "login_expired", status_code=403)
    with Session(ctx.engine, expire_on_commit=False) as session:
        try:
            user = authenticate(session, username, password, client_address(request), now, login_policy(ctx))
        except RateLimited:
            session.commit()
            return _login_page(request, next_path, "login_rate_limited", status_code=429)
        except LoginFailed:
            session.commit()
            return _login_page(request, next_path, "login_failed", status_code=401)
        revoke_session(session, session_token(request), now)
        purge_ended(session, now)
        token, _row = start_session(session, user.id, now, ctx.web)
        session.commit()
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        session_cookie_name(ctx.web),
        token,
        path="/",
        secure=ctx.web.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login", secure=ctx.web.secure_cookies, httponly=True)
    return response


@router.get("/account")
def account(
    request: Request, who: Annotated[SignedIn, Depends(signed_in)], changed: str | None = None
) -> Response:
    """Who is signed in: name, role and areas (no personal data of households), and the form to
    change one's password."""
    message = "password_changed" if changed == "1" else None
    return render(request, "account.html", areas=who.scope.areas, message=message, error=None)


@router.post("/account/password")
def change_own_password(
    request: Request,
    who: Annotated[SignedIn, Depends(csrf_checked)],
    current_password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    new_password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    new_password_again: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    """Change one's own password: the current one is checked like a sign-in (it counts toward
    the lock-out), the new one against the policy; every session ends and this browser gets a
    new one."""
    ctx = web_context(request)
    now = ctx.now()

    def refused(error: str, status_code: int) -> Response:
        return render(
            request, "account.html", status_code=status_code, areas=who.scope.areas, message=None, error=error
        )

    if new_password != new_password_again:
        return refused(translate("password_mismatch", who.locale), 400)
    with Session(ctx.engine, expire_on_commit=False) as session:
        try:
            user = authenticate(
                session, who.user.name, current_password, client_address(request), now, login_policy(ctx)
            )
        except (LoginFailed, RateLimited):
            session.commit()
            return refused(translate("password_current_wrong", who.locale), 403)
        try:
            check_password(new_password, user.name)
        except PasswordRefused as error:
            session.commit()  # the sign-in attempt stays recorded
            return refused(translate(f"password_rule_{error.rule}", who.locale), 400)
        change_password(session, user, new_password, now)
        token, _row = start_session(session, user.id, now, ctx.web)
        session.commit()
    response = RedirectResponse("/account?changed=1", status_code=303)
    response.set_cookie(
        session_cookie_name(ctx.web),
        token,
        path="/",
        secure=ctx.web.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/logout")
def logout(request: Request, who: Annotated[SignedIn, Depends(csrf_checked)]) -> Response:
    """End the session on the server, then forget the cookie."""
    ctx = web_context(request)
    with transaction(ctx.engine) as session:
        revoke_session(session, session_token(request), ctx.now())
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(
        session_cookie_name(ctx.web), path="/", secure=ctx.web.secure_cookies, httponly=True
    )
    return response
