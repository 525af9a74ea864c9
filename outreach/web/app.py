"""The FastAPI app of the social workers' page: routers of outreach.web.pages, error pages,
security headers, the host check and the static files."""

from __future__ import annotations

import importlib
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from lowinc.errors import AccessDenied, NotFound, UserError
from outreach.web.context import WebContext
from outreach.web.deps import SignInRequired, make_templates, render, signed_in
from outreach.web.i18n import DEFAULT_LOCALE, HTML_LANG, catalogue, translate
from outreach.web.pages import ROUTERS
from outreach.web.security import SecurityHeaders
from outreach.web.sessions import load_secret_key

STATIC = Path(__file__).resolve().parent / "static"


def _error(request: Request, status: int, page: str, detail: str | None = None) -> Response:
    if status != 500 and getattr(request.state, "signed_in", None) is None:
        with suppress(SignInRequired):  # the frame (menu, sign-out) for a signed-in user on any path
            signed_in(request)
    return render(request, "error.html", status_code=status, status=status, page=page, detail=detail)


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return _error(request, 403, "403")


async def _not_found(request: Request, _exc: Exception) -> Response:
    return _error(request, 404, "404")


async def _denied(request: Request, _exc: Exception) -> Response:
    return _error(request, 403, "403")


async def _bad_request(request: Request, exc: Exception) -> Response:
    # a UserError's one line says what to fix (it never quotes personal data); never FastAPI's
    # default 422 body, which echoes the values posted
    return _error(request, 400, "400", exc.message if isinstance(exc, UserError) else None)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    page = {404: "404", 403: "403", 401: "403", 405: "404"}.get(status, "400" if status < 500 else "500")
    response = _error(request, status, page)
    if isinstance(exc, StarletteHTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


def _server_error_page(templates: object) -> bytes:
    env = templates
    locale = DEFAULT_LOCALE

    def t(key: str, **values: object) -> str:
        return translate(key, locale, **values)

    html = env.get_template("error.html").render(  # type: ignore[attr-defined]
        request=None,
        user=None,
        who=None,
        csrf_token="",
        t=t,
        locale=locale,
        html_lang=HTML_LANG[locale],
        other_locale="en",
        other_locale_url="/?lang=en",
        status=500,
        page="500",
    )
    return str(html).encode("utf-8")


def create_app(ctx: WebContext) -> FastAPI:
    """The app over one outreach database; each module of ROUTERS gives a ``router``."""
    catalogue()  # a broken locale file fails here, at start-up
    app = FastAPI(title="lowinc", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.templates = make_templates()
    app.state.secret_key = ctx.secret_key or load_secret_key(ctx.layout.secure)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # browsers ask for it on their own, sometimes: no icon, and no 404 in their console
    app.add_api_route("/favicon.ico", lambda: Response(status_code=204), include_in_schema=False)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(AccessDenied, _denied)
    app.add_exception_handler(UserError, _bad_request)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=ctx.web.hosts())
    app.add_middleware(
        SecurityHeaders,
        error_page=lambda _scope: _server_error_page(app.state.templates),
        trusted_proxies=tuple(ctx.web.trusted_proxies),
    )
    return app
