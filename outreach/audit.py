"""The append-only audit log of every view, export and change of personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from outreach.db import utc_naive
from outreach.schema import AuditLog


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (so it commits or rolls back with the work)."""
    session.add(AuditLog(at=utc_naive(now), actor=actor, action=action, target=target, detail=detail or {}))


def read_audit(engine: Engine) -> pd.DataFrame:
    """Every audit entry, oldest first."""
    with Session(engine) as session:
        rows = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all()
    return pd.DataFrame(
        [
            {"at": r.at, "actor": r.actor, "action": r.action, "target": r.target, "detail": r.detail}
            for r in rows
        ],
        columns=["at", "actor", "action", "target", "detail"],
    )
