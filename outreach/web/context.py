"""What the web app runs on: the database, the home, the configuration and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from lowinc.home import HomeLayout
from outreach.config import OutreachConfig
from outreach.web.config import WebConfig


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class WebContext:
    """Passed to :func:`outreach.web.app.create_app`; pages reach it as ``request.app.state.ctx``
    (:func:`outreach.web.deps.web_context`). ``clock`` gives the current moment in UTC (tests fix
    it); ``secret_key`` signs the sign-in form's token (None: kept in <home>/secure/web.key)."""

    engine: Engine
    layout: HomeLayout
    outreach: OutreachConfig
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    secret_key: bytes | None = None

    @property
    def web(self) -> WebConfig:
        return self.outreach.web

    def now(self) -> dt.datetime:
        """The current moment as naive UTC (the database's form)."""
        moment = self.clock()
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment

    def today(self) -> dt.date:
        return self.now().date()
