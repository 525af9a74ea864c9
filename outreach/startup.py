"""Opening the outreach database on start-up: migrate to the newest schema, sync the users."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from outreach.config import OutreachConfig
from outreach.db import make_engine, transaction, upgrade
from outreach.jurisdiction import sync_users


def open_outreach_db(config: OutreachConfig, home: Path) -> Engine:
    """An engine on the configured database (SQLite under home by default), migrated, users synced.

    The migrations run on migration_url (PostgreSQL: as the owner role) when one is configured;
    the engine returned connects with database_url (PostgreSQL: as the application role).
    """
    app_url = config.url_for(home)
    migrator = upgrade(config.migration_url_for(home), roles=config.database_roles)
    if config.migration_url_for(home) == app_url:
        engine = migrator
    else:
        migrator.dispose()
        engine = make_engine(app_url)
    if config.users:
        with transaction(engine) as session:
            sync_users(session, config.users)
    return engine
