"""Opening the outreach database on start-up: migrate to the newest schema, sync the users."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from outreach.config import OutreachConfig
from outreach.db import transaction, upgrade
from outreach.jurisdiction import sync_users


def open_outreach_db(config: OutreachConfig, home: Path) -> Engine:
    """An engine on the configured database (SQLite under home by default), migrated, users synced."""
    engine = upgrade(config.url_for(home))
    if config.users:
        with transaction(engine) as session:
            sync_users(session, config.users)
    return engine
