"""The data team and the model owners hear through the same channels as alerts (the active users with role
``data_team`` of the outreach database: configured in configs/outreach.yaml, added with
``lowinc users add``, or the demo's ``data-team``): of a flow that failed, besides its state in Prefect,
and after every ingest, of what it has to fix (rejected and missing files, folders that are
not months, sources with a high quarantine share), through the outreach outbox.

Every flow module and the ingest command import this module for :data:`FAILURE_HOOKS`, so the
outreach database and channel libraries are imported inside the functions that send: a
``lowinc`` command or a flow run that sends nothing never loads them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypedDict

from pipelines.settings import Settings, load_settings

if TYPE_CHECKING:
    import pandas as pd

    from ingest.notice import IngestNotice
    from ingest.report import MonthReport
    from outreach.config import OutreachConfig

MAX_DETAIL = 300  # the state's message, cut: enough to find the run, no room for row dumps


def notify_data_team(flow: Any, flow_run: Any, state: Any) -> None:
    """A Prefect on_failure / on_crashed hook: one message per data-team address."""
    from outreach.channels import send_message

    settings = load_settings()
    config = settings.outreach
    title = f"lowinc: flow {flow.name} {state.name}"
    detail = (state.message or "")[:MAX_DETAIL]
    body = f"Flow run {flow_run.name} ({flow_run.id}) ended {state.name}. {detail}"
    try:
        team = data_team_of_database(settings)
    except Exception:  # the database itself may be what failed: the configured addresses then
        team = data_team_addresses(config)
    for _name, channel, address in team:
        send_message(channel, address, f"flow-{flow_run.id}-{state.name}", title, body, config)


class FailureHooks(TypedDict):
    """The keyword arguments of ``@flow`` that tell the data team of a failed or crashed run."""

    on_failure: list[Any]
    on_crashed: list[Any]


FAILURE_HOOKS: FailureHooks = {"on_failure": [notify_data_team], "on_crashed": [notify_data_team]}


INGEST_NOTICE = "ingest"  # the outbox kind of the data team's notice after an ingest


MONITORING_NOTICE = "monitoring"  # the model owners hear of a red month
QUALITY_NOTICE = "data-quality"  # the data team hears of a data-quality break found by monitoring


def role_addresses(
    config: OutreachConfig, role: str, users: pd.DataFrame | None = None
) -> list[tuple[str, str, str]]:
    """(user, channel, address) of every user of ``role`` on the channels switched on: the active
    users of the database (``users``: outreach.jurisdiction.users_frame), else the configured."""
    from outreach.messages import enabled_addresses

    if users is not None:
        team = users[users["role"] == role]
        people = list(zip(team["name"], team["addresses"], strict=True))
    else:
        people = [(u.name, dict(u.addresses)) for u in config.users if u.role == role and u.active]
    return [
        (name, channel, address)
        for name, addresses in people
        for channel, address in enabled_addresses(addresses or {}, config)
    ]


def data_team_addresses(
    config: OutreachConfig, users: pd.DataFrame | None = None
) -> list[tuple[str, str, str]]:
    """:func:`role_addresses` of the data team."""
    return role_addresses(config, "data_team", users)


def data_team_of_database(settings: Settings) -> list[tuple[str, str, str]]:
    """:func:`data_team_addresses` of the outreach database's active users."""
    from outreach.jurisdiction import load_users
    from outreach.startup import open_outreach_db

    engine = open_outreach_db(settings.outreach, settings.home)
    try:
        return data_team_addresses(settings.outreach, load_users(engine))
    finally:
        engine.dispose()


def notice_rows(
    notice: IngestNotice,
    recipients: dict[str, int],
    config: OutreachConfig,
    now: dt.datetime,
    users: pd.DataFrame | None = None,
    *,
    role: str = "data_team",
    kind: str = INGEST_NOTICE,
) -> list[dict[str, Any]]:
    """Outbox rows of one notice, one per user of ``role`` and channel. The idempotency key is
    the notice's text: the same months re-ingested with the same findings queue nothing new,
    while a changed finding (a file resubmitted, a folder renamed) is a new notice."""
    from outreach.messages import idempotency_key

    content = idempotency_key(notice.title, *notice.lines)
    rows = []
    for name, channel, address in role_addresses(config, role, users):
        if name not in recipients:
            continue
        key = idempotency_key(kind, name, channel, content)
        body = "\n".join([notice.title, *notice.lines, f"消息编号：{key[:16]}"])
        rows.append(
            {
                "kind": kind,
                "channel": channel,
                "recipient_id": recipients[name],
                "address": address,
                "idempotency_key": key,
                "run_id": content[:12],
                "attempts": 0,
                "next_attempt_at": now,
                "status": "pending",
                "created_at": now,
                "payload": {"title": notice.title, "body": body, "months": list(notice.months)},
            }
        )
    return rows


def notify_ingest(reports: list[MonthReport], settings: Settings | None = None) -> dict[str, Any]:
    """After an ingest (the CLI, the ingest flow, the monthly loop): queue the data team's
    notice in the outreach outbox and deliver it (what is not delivered now stays pending and
    goes with the next ``lowinc alerts send``). Nothing to report: the outreach database is not
    even opened."""
    from ingest.notice import ingest_notice

    settings = settings or load_settings()
    notice = ingest_notice(reports, settings.ingest.notice_quarantine_share)
    if notice is None:
        return {"findings": None, "queued": 0, "sent": 0}
    return send_notice(settings, notice, role="data_team", kind=INGEST_NOTICE)


def send_notice(settings: Settings, notice: IngestNotice, *, role: str, kind: str) -> dict[str, Any]:
    """Queue ``notice`` for every active user of ``role`` (once per user, channel and text) and
    deliver the notices of ``kind`` now."""
    from sqlalchemy import select

    from outreach.db import insert_ignoring_duplicates, transaction
    from outreach.deliver import deliver_pending
    from outreach.jurisdiction import users_frame
    from outreach.schema import Outbox
    from outreach.startup import open_outreach_db

    config = settings.outreach
    summary: dict[str, Any] = {"findings": notice.title, "recipients": 0, "queued": 0, "sent": 0}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = open_outreach_db(config, settings.home)
    try:
        with transaction(engine) as session:
            users = users_frame(session)
            team = users[users["role"] == role]
            recipients = dict(zip(team["name"], team["user_id"], strict=True))
            summary["recipients"] = len(recipients)
            rows = notice_rows(notice, recipients, config, now, users, role=role, kind=kind)
            keys = [r["idempotency_key"] for r in rows]
            known = select(Outbox.idempotency_key).where(Outbox.idempotency_key.in_(keys))
            queued = set(session.scalars(known))
            insert_ignoring_duplicates(session, Outbox.__table__, rows)
            summary["queued"] = len(set(keys) - queued)
        summary["sent"] = deliver_pending(engine, config, now, kinds=(kind,)).sent
    finally:
        engine.dispose()
    return summary
