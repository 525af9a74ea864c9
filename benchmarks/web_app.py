"""The app `lowinc web` serves, as a uvicorn factory for the load benchmark (uvicorn needs an
import string to run several worker processes; `lowinc web` runs one).

    LOWINC_BENCH_URL=sqlite:////tmp/x/outreach.db LOWINC_HOME=/tmp/x/home \\
        .venv/bin/python -m uvicorn benchmarks.web_app:make_app --factory --workers 2

LOWINC_BENCH_POOL sets the PostgreSQL connection pool per worker (pool_size; as many again
may overflow), LOWINC_BENCH_THREADS the threads a worker runs the (synchronous) pages in
(anyio's default: 40). No user is synced: the seed made them.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine

from lowinc.home import HomeLayout
from outreach.config import OutreachConfig
from outreach.db import make_engine
from outreach.web.app import create_app
from outreach.web.config import WebConfig
from outreach.web.context import WebContext


def bench_engine(url: str, pool: int) -> Engine:
    """make_engine's engine; on PostgreSQL with the pool sized for the worker's threads."""
    if url.startswith("sqlite"):
        return make_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=pool, max_overflow=pool)


def make_app() -> FastAPI:
    url = os.environ["LOWINC_BENCH_URL"]
    home = Path(os.environ["LOWINC_HOME"])
    engine = bench_engine(url, int(os.environ.get("LOWINC_BENCH_POOL", "10")))
    config = OutreachConfig(users=[], web=WebConfig(allowed_hosts=["127.0.0.1"]))
    app = create_app(WebContext(engine=engine, layout=HomeLayout(home), outreach=config))
    threads = int(os.environ.get("LOWINC_BENCH_THREADS", "40"))

    @app.on_event("startup")
    async def _threads() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads

    return app
