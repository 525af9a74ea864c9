"""What the data team watches: outbox counts by status and channel, dead letters, and requeueing."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, select, update

from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.jurisdiction import acting_user, audited_refusals
from outreach.schema import Outbox, User


def outbox_status(engine: Engine, *, dead_limit: int = 50) -> dict[str, Any]:
    """Counts per status and channel, the oldest pending message, and the dead letters."""
    with transaction(engine) as session:
        counts = session.execute(
            select(Outbox.status, Outbox.channel, func.count()).group_by(Outbox.status, Outbox.channel)
        ).all()
        oldest = session.execute(
            select(func.min(Outbox.created_at)).where(Outbox.status == "pending")
        ).scalar_one()
        dead = session.execute(
            select(
                Outbox.id,
                Outbox.kind,
                Outbox.channel,
                User.name,
                Outbox.attempts,
                Outbox.last_error,
                Outbox.created_at,
                Outbox.idempotency_key,
            )
            .join(User, User.id == Outbox.recipient_id)
            .where(Outbox.status == "dead")
            .order_by(Outbox.id)
            .limit(dead_limit)
        ).all()
    by_status: dict[str, int] = {"pending": 0, "sent": 0, "dead": 0}
    by_channel: dict[str, dict[str, int]] = {}
    for status, channel, n in counts:
        by_status[status] = by_status.get(status, 0) + n
        by_channel.setdefault(channel, {})[status] = n
    return {
        "by_status": by_status,
        "by_channel": by_channel,
        "oldest_pending": oldest.isoformat() if oldest else None,
        "dead_letters": [
            {
                "id": r[0],
                "kind": r[1],
                "channel": r[2],
                "recipient": r[3],
                "attempts": r[4],
                "last_error": (r[5] or "").splitlines()[-1:] and (r[5] or "").splitlines()[-1],
                "created_at": r[6].isoformat(),
                "idempotency_key": r[7],
            }
            for r in dead
        ],
    }


def requeue_dead(engine: Engine, ids: list[int] | None, now: dt.datetime, *, actor: str) -> int:
    """Give dead letters (all, or the given ids) a fresh set of attempts once the cause is fixed;
    only an active data-team member may (anyone else is refused and audited)."""
    now = utc_naive(now)
    query = update(Outbox).where(Outbox.status == "dead")
    if ids:
        query = query.where(Outbox.id.in_(ids))
    refusal: dict[str, Any] = {"actor": actor, "action": "requeue_denied", "target": "outbox", "now": now}
    with audited_refusals(engine, **refusal, detail={"ids": ids or "all"}), transaction(engine) as session:
        actor = acting_user(session, actor, "requeue_dead").name
        n = cast(
            CursorResult[Any],
            session.execute(query.values(status="pending", attempts=0, next_attempt_at=now)),
        ).rowcount
        record_audit(
            session,
            actor=actor,
            action="requeue_dead",
            target="outbox",
            now=now,
            detail={"ids": ids or "all", "requeued": n},
        )
    return int(n)
