"""Configuration of the web page (``outreach.web:`` in configs/outreach.yaml)."""

from __future__ import annotations

from pydantic import Field

from lowinc.section import Section


class WebConfig(Section):
    """Where the page listens, how long a sign-in lasts, and how sign-in is throttled."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Host header values the page answers (anything else: 400); the listening host is added
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    lockout_threshold: int = Field(default=5, ge=1)  # consecutive failures that lock an account
    lockout_minutes: int = Field(default=15, ge=1)
    # failed sign-ins from one client address within the window before it must wait
    rate_limit_attempts: int = Field(default=20, ge=1)
    rate_limit_window_minutes: int = Field(default=15, ge=1)
    secure_cookies: bool = True  # Secure flag; Chromium and Firefox accept it on http://127.0.0.1
    # peer addresses of a reverse proxy whose X-Forwarded-For / -Proto are believed; empty: none
    trusted_proxies: list[str] = Field(default_factory=list)

    def hosts(self) -> list[str]:
        """The Host header values accepted: the configured ones and the listening host."""
        return list(dict.fromkeys([*self.allowed_hosts, self.host]))
