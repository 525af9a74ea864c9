"""Sign-in and sign-out (/login, /logout), and / which opens the visit list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from outreach.accounts import LoginFailed, LoginPolicy, RateLimited, authenticate
from outreach.db import transaction
from outreach.web.context import WebContext
from outreach.web.deps import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SignedIn,
    client_address,
    csrf_checked,
    render,
    safe_next,
    signed_in,
    web_context,
)
from outreach.web.sessions import (
    find_session,
    login_form_token,
    login_form_valid,
    new_login_nonce,
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
        open_session = find_session(session, request.cookies.get(SESSION_COOKIE), ctx.now(), ctx.web)
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
        revoke_session(session, request.cookies.get(SESSION_COOKIE), now)
        token, _row = start_session(session, user.id, now, ctx.web)
        session.commit()
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, path="/", secure=ctx.web.secure_cookies, httponly=True, samesite="lax"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login", secure=ctx.web.secure_cookies, httponly=True)
    return response


@router.get("/account")
def account(request: Request, who: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    """Who is signed in: name, role and areas (no personal data of households)."""
    return render(request, "account.html", areas=who.scope.areas)


@router.post("/logout")
def logout(request: Request, who: Annotated[SignedIn, Depends(csrf_checked)]) -> Response:
    """End the session on the server, then forget the cookie."""
    ctx = web_context(request)
    with transaction(ctx.engine) as session:
        revoke_session(session, request.cookies.get(SESSION_COOKIE), ctx.now())
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=ctx.web.secure_cookies, httponly=True)
    return response
