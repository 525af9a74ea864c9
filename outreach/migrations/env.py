"""Alembic environment for the outreach database, run programmatically by outreach.db.upgrade.

The caller passes an open connection in ``config.attributes["connection"]``; the
``alembic`` command line works too with ``-x url=...`` or sqlalchemy.url set.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from outreach.db import make_engine
from outreach.schema import Base

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run_with(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url is None:
        raise SystemExit("no database: pass -x url=... or set sqlalchemy.url")
    engine = make_engine(url)
    with engine.begin() as connection:
        run_with(connection)
    engine.dispose()
