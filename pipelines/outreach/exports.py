"""The monthly flow's exports: every township's workbook, written as its town officer (else the
county officer), and a `list-ready` notice to whoever it was written for."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, select

from outreach.config import ChannelName, OutreachConfig
from outreach.db import insert_ignoring_duplicates, transaction, utc_naive
from outreach.export import export_town_list
from outreach.messages import LIST_READY, enabled_addresses, idempotency_key, list_ready_text, outbox_row
from outreach.schema import Alert, Outbox, User
from outreach.startup import open_outreach_db
from pipelines.outreach.dispatch import load_outreach, utcnow
from pipelines.outreach.heads import household_heads


def towns_of_month(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """town_code, town_name of the month's alerts."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Alert.town_code, Alert.town_name)
            .where(Alert.as_of == as_of)
            .distinct()
            .order_by(Alert.town_code)
        ).all()
    return pd.DataFrame(rows, columns=["town_code", "town_name"]).drop_duplicates("town_code")


def town_exporters(engine: Engine, towns: pd.Series) -> dict[str, User]:
    """The user each township's list is exported for: its town officer, else the county officer
    (first by name when several share the area); towns with neither are left out."""
    with transaction(engine) as session:
        officers = (
            session.execute(
                select(User)
                .where(User.active.is_(True), User.role.in_(["town_officer", "county_officer"]))
                .order_by(User.name)
            )
            .scalars()
            .all()
        )
        session.expunge_all()
    by_area: dict[str, User] = {}
    for user in officers:
        if user.code and (user.role, user.level) in (("town_officer", "town"), ("county_officer", "county")):
            by_area.setdefault(user.code, user)
    out = {}
    for town in towns:
        found = by_area.get(town) or by_area.get(town[:6])
        if found is not None:
            out[town] = found
    return out


def list_ready_rows(
    exported: list[dict[str, Any]],
    users: dict[str, User],
    config: OutreachConfig,
    as_of: dt.date,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Outbox rows telling each exporter their township's list is ready: idempotent per town,
    month, recipient and channel (a re-run of the month queues nothing new)."""
    link = config.link_base_url.rstrip("/")
    rows = []
    for item in exported:
        user = users[item["town_code"]]
        for channel, address in enabled_addresses(cast(dict[ChannelName, str], user.addresses), config):
            key = idempotency_key(LIST_READY, item["town_code"], f"{as_of:%Y-%m}", user.name, channel)
            title, body = list_ready_text(user.name, item["town_name"], as_of, item["rows"], link, key)
            payload = {
                "title": title,
                "body": body,
                "as_of": as_of.isoformat(),
                "town_code": item["town_code"],
            }
            rows.append(
                outbox_row(LIST_READY, user.id, channel, address, key, f"list-{as_of:%Y-%m}", now, payload)
            )
    return rows


def export_month(as_of: str) -> dict[str, Any]:
    """Export every township's workbook of the month and queue the list-ready notices."""
    config, home = load_outreach()
    month = dt.date.fromisoformat(as_of)
    now = utc_naive(utcnow())
    engine = open_outreach_db(config, home)
    try:
        towns = towns_of_month(engine, month)
        exporters = town_exporters(engine, towns["town_code"])
        heads = household_heads(home, pd.Timestamp(as_of))
        names = dict(zip(towns["town_code"], towns["town_name"], strict=True))
        exported = []
        for town, user in exporters.items():
            result = export_town_list(
                engine, home, town_code=town, as_of=month, user_name=user.name, now=now, heads=heads
            )
            exported.append(
                {"town_code": town, "town_name": names[town], "rows": result.rows, "xlsx": result.xlsx}
            )
        rows = list_ready_rows(exported, exporters, config, month, now)
        with transaction(engine) as session:
            keys = [r["idempotency_key"] for r in rows]
            known = set(
                session.scalars(select(Outbox.idempotency_key).where(Outbox.idempotency_key.in_(keys)))
            )
            insert_ignoring_duplicates(session, Outbox.__table__, rows)
    finally:
        engine.dispose()
    return {
        "towns": len(towns),
        "exported": len(exported),
        "without_officer": len(towns) - len(exported),
        "files": [e["xlsx"] for e in exported],
        "list_ready_queued": len(set(keys) - known),
    }
