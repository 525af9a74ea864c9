"""What every page uses: who is signed in, what they may do, the CSRF check, and rendering.

- ``who: Annotated[SignedIn, Depends(signed_in)]`` on every page with data: a GET without a valid session
  is sent to ``/login?next=<path>``, anything else answers 403.
- ``who: Annotated[SignedIn, Depends(require("view_household"))]``: signed in *and* in a role allowed to
  (outreach.jurisdiction.PERMISSIONS); 403 else, audited. The area check comes on top, through
  ``who.scope`` (outreach.jurisdiction.authorized_alert / Scope.alert_filter).
- ``who: Annotated[SignedIn, Depends(csrf_checked)]`` on every POST: the form field ``csrf_token`` must
  equal the session's (compared in constant time); 403 else. ``csrf_checked_for(action)`` is
  both checks in one.
- ``render(request, "page.html", **context)``: a template of outreach/web/templates with
  ``user``, ``csrf_token``, ``t``, ``locale`` (and ``csrf_field()``) in its context.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.orm import Session

from lowinc.errors import AccessDenied
from outreach.audit import record_audit
from outreach.db import transaction
from outreach.jurisdiction import PERMISSIONS, Scope, scope_of
from outreach.web.config import WebConfig
from outreach.web.context import WebContext
from outreach.web.i18n import HTML_LANG, LOCALES, pick_locale, translate
from outreach.web.sessions import find_session

# "__Host-": the browser keeps it only when Secure, Path=/ and without Domain (ASVS 3.4.4)
SESSION_COOKIE = "__Host-lowinc_session"
PLAIN_SESSION_COOKIE = "lowinc_session"  # secure_cookies: false (plain http beyond 127.0.0.1)
LOGIN_COOKIE = "lowinc_login"
LANG_COOKIE = "lowinc_lang"
TEMPLATES = Path(__file__).resolve().parent / "templates"


class SignInRequired(Exception):
    """No valid session: a GET goes to the sign-in page, anything else is refused (403)."""


@dataclass(frozen=True)
class UserRef:
    """The signed-in user as pages see it (no hash, no lock-out columns)."""

    id: int
    name: str
    role: str


@dataclass(frozen=True)
class SignedIn:
    """A request's signed-in user: their scope (the one authorization layer), the session id
    (SHA-256 of the cookie's token), the session's CSRF token and the page language."""

    scope: Scope
    user: UserRef
    session_id: str
    csrf_token: str
    locale: str

    def may(self, action: str) -> bool:
        return self.user.role in PERMISSIONS[action]


def web_context(request: Request) -> WebContext:
    """The app's WebContext (engine, layout, configuration, clock)."""
    ctx: WebContext = request.app.state.ctx
    return ctx


def locale_of(request: Request) -> str:
    """zh or en: ?lang=, else the language cookie, else zh."""
    return pick_locale(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def session_cookie_name(config: WebConfig) -> str:
    """The session cookie's name: __Host- prefixed unless secure cookies are turned off."""
    return SESSION_COOKIE if config.secure_cookies else PLAIN_SESSION_COOKIE


def session_token(request: Request) -> str | None:
    """The session token the request's cookie carries, if any."""
    return request.cookies.get(session_cookie_name(web_context(request).web))


def client_address(request: Request) -> str:
    """The client's address for the sign-in rate limit: the peer, or the last X-Forwarded-For
    hop when the peer is a configured trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if peer in web_context(request).web.trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return peer[:64]


def signed_in(request: Request) -> SignedIn:
    """The valid session of the request's cookie, or SignInRequired."""
    existing = getattr(request.state, "signed_in", None)
    if isinstance(existing, SignedIn):
        return existing
    ctx = web_context(request)
    with transaction(ctx.engine) as session:
        found = find_session(session, session_token(request), ctx.now(), ctx.web)
        if found is None:
            raise SignInRequired()
        scope = scope_of(session, found.user)
        who = SignedIn(
            scope=scope,
            user=UserRef(id=found.user.id, name=found.user.name, role=found.user.role),
            session_id=found.id,
            csrf_token=found.csrf_token,
            locale=locale_of(request),
        )
    request.state.signed_in = who
    return who


def _refuse(request: Request, who: SignedIn, action: str, reason: str) -> None:
    ctx = web_context(request)
    with transaction(ctx.engine) as session:
        record_audit(
            session,
            actor=who.user.name,
            action=f"{action}_denied",
            target=f"page:{request.url.path[:180]}",
            now=ctx.now(),
            detail={"reason": reason, "method": request.method},
        )


def require(action: str) -> Callable[..., SignedIn]:
    """A dependency: the signed-in user, when their role may do the action (403 else, audited)."""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}: one of {sorted(PERMISSIONS)}")

    def dependency(request: Request, who: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
        if not who.may(action):
            _refuse(request, who, action, f"role {who.user.role} may not {action}")
            raise AccessDenied(f"{who.user.role} may not {action.replace('_', ' ')}")
        return who

    return dependency


async def _posted_token(request: Request) -> str:
    form = await request.form()  # parsed once: FastAPI's Form() parameters read the same cache
    value = form.get("csrf_token")
    return value if isinstance(value, str) else ""


async def csrf_checked(request: Request, who: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    """The signed-in user of a POST whose form carries the session's csrf_token (403 else)."""
    posted = await _posted_token(request)
    if not posted or not hmac.compare_digest(posted.encode(), who.csrf_token.encode()):
        _refuse(request, who, "csrf", "missing or wrong csrf_token")
        raise AccessDenied("the form's csrf_token is missing or wrong")
    return who


def csrf_checked_for(action: str) -> Callable[..., Awaitable[SignedIn]]:
    """csrf_checked and require(action) in one dependency, for a POST that acts."""
    allowed = require(action)

    async def dependency(request: Request, who: Annotated[SignedIn, Depends(csrf_checked)]) -> SignedIn:
        return allowed(request, who)

    return dependency


def make_templates() -> Environment:
    """The Jinja2 environment of outreach/web/templates (autoescape on for every template)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_field"] = _csrf_field
    return env


@pass_context
def _csrf_field(context: Context) -> Markup:
    """``{{ csrf_field() }}``: the hidden csrf_token input of a form (escaped)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        context.get("csrf_token") or ""
    )


def lang_url(request: Request, locale: str) -> str:
    """The current page in another language (the path and query, lang replaced)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", locale)]
    return f"{request.url.path}?{urlencode(query)}"


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from a template, with the signed-in user (if any), their CSRF token, ``t`` in the
    request's language, ``locale`` and ``html_lang``. Context given by the caller wins."""
    env: Environment = request.app.state.templates
    who = getattr(request.state, "signed_in", None)
    locale = who.locale if isinstance(who, SignedIn) else locale_of(request)
    other = "en" if locale == "zh" else "zh"

    def t(key: str, **values: object) -> str:
        return translate(key, locale, **values)

    values: dict[str, Any] = {
        "request": request,
        "user": who.user if isinstance(who, SignedIn) else None,
        "who": who if isinstance(who, SignedIn) else None,
        "csrf_token": who.csrf_token if isinstance(who, SignedIn) else "",
        "t": t,
        "locale": locale,
        "html_lang": HTML_LANG[locale],
        "other_locale": other,
        "other_locale_url": lang_url(request, other),
        **context,
    }
    html = env.get_template(name).render(values)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LOCALES:  # the user's choice, kept for the next pages
        secure = web_context(request).web.secure_cookies
        response.set_cookie(
            LANG_COOKIE, locale, max_age=365 * 86400, secure=secure, httponly=True, samesite="lax"
        )
    return response


def safe_next(value: str | None, default: str = "/visits") -> str:
    """A local path to go to after sign-in; anything that could leave the site (a scheme, a
    host, //, a backslash, control characters) becomes the default."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def open_session(request: Request) -> Session:
    """A plain ORM session on the app's engine (the caller closes it); prefer
    outreach.db.transaction(web_context(request).engine) for work that writes."""
    return Session(web_context(request).engine, expire_on_commit=False)
