"""The page modules whose ``router`` the app includes, in order. Each page owner adds one line."""

from __future__ import annotations

ROUTERS: list[str] = [
    "outreach.web.auth",
    "outreach.web.alerts",
    "outreach.web.dashboard",
    "outreach.web.needs",
    "outreach.web.downloads",
    "outreach.web.visits",
    "outreach.web.lists",
    "outreach.web.checks",
]
