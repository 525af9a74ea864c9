"""Security headers on every response, and a 500 page that never shows a traceback.

A pure ASGI middleware (outermost but for the host check), so the headers are on error pages,
redirects and static files alike. Pages with personal data must not be cached by the browser or
a proxy: every response but /static/ gets ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """Adds the headers; turns an unhandled error into a plain 500 page (logged by type and
    place only: an exception's message may quote personal data)."""

    def __init__(self, app: ASGIApp, error_page: Any = None, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.app = app
        self.error_page = error_page  # callable(scope) -> bytes (the rendered 500 page)
        self.trusted_proxies = frozenset(trusted_proxies)

    def is_https(self, scope: Scope) -> bool:
        """Served over https: directly, or behind a trusted proxy that says so."""
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if client and client[0] in self.trusted_proxies:
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-proto":
                    return value.decode("latin-1").split(",")[-1].strip().lower() == "https"
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = self.is_https(scope)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in {h for h, _ in HEADERS}
                ]
                headers += HEADERS
                if https:
                    headers.append(HSTS)
                if not path.startswith(STATIC_PREFIX):
                    headers = [(k, v) for k, v in headers if k.lower() not in (b"cache-control", b"pragma")]
                    headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
            where = f"{frame.filename}:{frame.lineno}" if frame else "?"
            log.error("unhandled %s at %s on %s %s", type(error).__name__, where, scope.get("method"), path)
            if started:
                raise
            body = self.error_page(scope) if self.error_page else b"Internal Server Error"
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
