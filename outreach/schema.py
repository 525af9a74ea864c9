"""The outreach database as typed ORM models (the Alembic migrations create the same tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base; every timestamp is naive UTC."""


class User(Base):
    """A social worker, officer, data-team member or model owner, and the area they answer for.

    Only an active user acts. The sign-in columns (password_hash for Argon2id, failed_logins,
    locked_until, password_changed_at) are for the web page and stay empty until it arrives.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # village_worker | town_officer | county_officer | data_team | model_owner
    role: Mapped[str] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(10))
    code: Mapped[str | None] = mapped_column(String(12))
    addresses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # None: configured before 0002


class Alert(Base):
    """One household on one month's visit list, with the model's reasons and tier."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("household_key", "as_of", name="uq_alerts_household_as_of"),
        Index("ix_alerts_town_as_of", "town_code", "as_of"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_key: Mapped[str] = mapped_column(String(128))
    as_of: Mapped[dt.date] = mapped_column(Date)
    run_id: Mapped[str] = mapped_column(String(64))
    county_code: Mapped[str] = mapped_column(String(6))
    town_code: Mapped[str] = mapped_column(String(9))
    village_code: Mapped[str] = mapped_column(String(12))
    village_name: Mapped[str] = mapped_column(String(100))
    town_name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(10))
    risk: Mapped[float] = mapped_column(Float)
    rank_in_village: Mapped[int] = mapped_column(Integer)
    rank_in_town: Mapped[int] = mapped_column(Integer)
    hard_triggers: Mapped[str] = mapped_column(Text, default="")
    reasons_zh: Mapped[str] = mapped_column(Text, default="")
    reasons_en: Mapped[str] = mapped_column(Text, default="")
    action_zh: Mapped[str] = mapped_column(String(100), default="")
    due_date: Mapped[dt.date] = mapped_column(Date)
    model_version: Mapped[str] = mapped_column(String(100))
    # notify: a new alert (messages queued); cooldown: alerted recently, listed but not pushed;
    # watch: blue, listed only
    status: Mapped[str] = mapped_column(String(10))
    previous_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class VisitTask(Base):
    """A home check (核查) assigned to the responsible worker; what it found is in visit_outcomes."""

    __tablename__ = "visit_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), unique=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done


class VisitOutcome(Base):
    """One record of what a home check found. Records are never changed: a correction is a new
    row whose supersedes_id names the record it replaces (each record is replaced at most once),
    so the history of a label stays readable."""

    __tablename__ = "visit_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("visit_tasks.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    hardship_confirmed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("visit_outcomes.id"), unique=True)


class Outbox(Base):
    """A message to one recipient on one channel, written with its alerts, sent at least once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # red-alert | digest
    channel: Mapped[str] = mapped_column(String(10))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_id: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | dead
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Delivery(Base):
    """One attempt to send one outbox message."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class AuditLog(Base):
    """Append-only record of who did what to personal data; triggers refuse updates and deletes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
