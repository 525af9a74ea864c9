"""Deliver due outbox messages at least once, with exponential backoff and dead letters.

Each message is claimed in its own short transaction (attempts + 1, pushed out by a lease,
compare-and-set so two senders never claim the same attempt), sent outside any
transaction, then recorded. A sender that dies between send and record leaves the message
to be sent again when the lease ends: receivers de-duplicate by idempotency key.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, case, select, update

from outreach.channels import send_message
from outreach.config import OutreachConfig, RetryPolicy
from outreach.db import transaction, utc_naive
from outreach.messages import RED_ALERT
from outreach.schema import Delivery, Outbox


@dataclass
class DeliverySummary:
    due: int = 0
    sent: int = 0
    failed: int = 0  # failed this time, will be retried
    dead: int = 0  # failed for the last time (or permanently)
    skipped: int = 0  # claimed by another sender meanwhile
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def backoff_seconds(attempts: int, policy: RetryPolicy) -> float:
    """Wait after the attempts-th failure: base · 2^(attempts-1), capped."""
    return min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** max(attempts - 1, 0))


def _due_ids(
    engine: Engine, now: dt.datetime, limit: int | None, kinds: Collection[str] | None = None
) -> list[int]:
    red_first = case((Outbox.kind == RED_ALERT, 0), else_=1)
    query = (
        select(Outbox.id)
        .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
        .order_by(red_first, Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    )
    if kinds is not None:
        query = query.where(Outbox.kind.in_(list(kinds)))
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def _claim(engine: Engine, outbox_id: int, now: dt.datetime, policy: RetryPolicy) -> Outbox | None:
    """Take one attempt at a due message, or None when another sender took it first."""
    lease_end = now + dt.timedelta(seconds=policy.lease_seconds)
    with transaction(engine) as session:
        claimed = cast(
            CursorResult[Any],
            session.execute(
                update(Outbox)
                .where(Outbox.id == outbox_id, Outbox.status == "pending", Outbox.next_attempt_at <= now)
                .values(attempts=Outbox.attempts + 1, next_attempt_at=lease_end),
            ),
        ).rowcount
        if claimed != 1:
            return None
        return session.get(Outbox, outbox_id)


def _record(
    engine: Engine,
    message: Outbox,
    ok: bool,
    error: str | None,
    permanent: bool,
    now: dt.datetime,
    policy: RetryPolicy,
    duration_ms: int,
) -> str:
    if ok:
        values: dict[str, object] = {"status": "sent", "sent_at": now, "last_error": None}
    elif permanent or message.attempts >= policy.max_attempts:
        values = {"status": "dead", "last_error": error}
    else:
        wait = dt.timedelta(seconds=backoff_seconds(message.attempts, policy))
        values = {"next_attempt_at": now + wait, "last_error": error}
    with transaction(engine) as session:
        session.execute(update(Outbox).where(Outbox.id == message.id).values(**values))
        session.add(
            Delivery(
                outbox_id=message.id,
                attempt=message.attempts,
                attempted_at=now,
                ok=ok,
                error=error,
                duration_ms=duration_ms,
            )
        )
    return str(values.get("status", "pending"))


def deliver_pending(
    engine: Engine,
    config: OutreachConfig,
    now: dt.datetime,
    *,
    limit: int | None = None,
    kinds: Collection[str] | None = None,
) -> DeliverySummary:
    """Send every outbox message due at ``now`` (red alerts first); one attempt each.
    ``kinds``: only messages of these kinds (the ingest sends its own notice, not the alerts)."""
    now = utc_naive(now)
    policy = config.retry
    summary = DeliverySummary()
    for outbox_id in _due_ids(engine, now, limit, kinds):
        summary.due += 1
        message = _claim(engine, outbox_id, now, policy)
        if message is None:
            summary.skipped += 1
            continue
        started = time.perf_counter()
        result = send_message(
            message.channel,
            message.address,
            message.idempotency_key,
            message.payload["title"],
            message.payload["body"],
            config,
        )
        duration_ms = int((time.perf_counter() - started) * 1000)
        status = _record(engine, message, result.ok, result.error, result.permanent, now, policy, duration_ms)
        if status == "sent":
            summary.sent += 1
        elif status == "dead":
            summary.dead += 1
        else:
            summary.failed += 1
        if result.error and len(summary.errors) < 20:
            summary.errors.append(f"{message.channel}: {result.error.splitlines()[-1]}")
    return summary
