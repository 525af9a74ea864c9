"""What the CLI and the flow share: the outreach configuration, the home, reading a visit list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from outreach.config import OutreachConfig
from outreach.contacts import write_contacts
from outreach.deliver import deliver_pending
from outreach.queue import queue_alerts
from outreach.startup import open_outreach_db
from pipelines.outreach.heads import household_contacts
from pipelines.settings import load_settings


def load_outreach() -> tuple[OutreachConfig, Path]:
    """(outreach config, project home) from the settings."""
    settings = load_settings()
    return settings.outreach, settings.home


def queue_visit_list(visit_list: pd.DataFrame, run_id: str) -> dict[str, Any]:
    """Queue a visit list's alerts, tasks and outbox messages (one transaction)."""
    config, home = load_outreach()
    engine = open_outreach_db(config, home)
    try:
        summary = queue_alerts(engine, visit_list, run_id, utcnow(), config=config).to_dict()
        summary["contacts"] = write_list_contacts(engine, home, visit_list)
        return summary
    finally:
        engine.dispose()


def write_list_contacts(engine: Engine, home: Path, visit_list: pd.DataFrame) -> int:
    """Household codes and contacts (head or stand-in, masked ID) for the list's alerts."""
    if visit_list.empty:
        return 0
    as_of = pd.Timestamp(visit_list["as_of"].iloc[0])
    contacts = household_contacts(home, as_of, visit_list["household_key"].astype(str).tolist())
    return write_contacts(engine, contacts, as_of.date())


def deliver_due() -> dict[str, Any]:
    """Send every outbox message that is due (retries with backoff, dead letters)."""
    config, home = load_outreach()
    engine = open_outreach_db(config, home)
    try:
        return deliver_pending(engine, config, utcnow()).to_dict()
    finally:
        engine.dispose()


def read_frame(path: Path) -> pd.DataFrame:
    """A visit list or heads frame from Parquet or CSV (codes kept as text)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    for column in ["as_of", "due_date"]:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    for column in ["risk"]:
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
