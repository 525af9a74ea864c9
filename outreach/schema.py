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

    Only an active user acts. ``level``/``code`` is the user's primary area; a worker who
    answers for several villages has the others in ``user_areas``. The sign-in columns
    (password_hash for Argon2id, failed_logins, locked_until, password_changed_at) are the web
    page's. ``origin`` says who manages the row: ``config`` (synced from outreach.users, made
    inactive when removed there), ``cli`` (``lowinc users add``) or ``demo`` (the embedded
    default's staff); only ``config`` rows are touched by the sync.
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
    origin: Mapped[str] = mapped_column(String(10), default="config", server_default="config")
    capacity: Mapped[int | None] = mapped_column(Integer)  # home visits a month; None: the config's default


class UserArea(Base):
    """A further area a user answers for (a worker covering a few villages); the primary one is on
    users. Every jurisdiction check reads both (outreach.jurisdiction.scope_of)."""

    __tablename__ = "user_areas"
    __table_args__ = (UniqueConstraint("user_id", "code", name="uq_user_areas_user_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(12))


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored (id), so
    the table cannot be replayed. A new session is made at every sign-in (rotation)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # absolute limit, whatever the activity
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LoginAttempt(Base):
    """Every sign-in attempt, for the rate limit per client and per user name."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_client_at", "client", "at"),
        Index("ix_login_attempts_username_at", "username", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)


class Alert(Base):
    """One household on one month's visit list, with the model's reasons and tier."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("household_key", "as_of", name="uq_alerts_household_as_of"),
        Index("ix_alerts_town_as_of", "town_code", "as_of"),
        Index("ix_alerts_village_as_of", "village_code", "as_of"),
        Index("ix_alerts_county_as_of", "county_code", "as_of"),
        Index("ix_alerts_household_code", "household_code"),
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
    # a short code a worker can read out on the phone (from the keyed hash, not personal data)
    household_code: Mapped[str | None] = mapped_column(String(16))
    # rank: listed by its risk (probability 1); explore: drawn at random for exploration
    # (scoring.exploration), with the probability it had of being drawn. Workers see no difference;
    # labels from visits are weighted by 1 / listing_probability.
    selection: Mapped[str] = mapped_column(String(10), default="rank", server_default="rank")
    listing_probability: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")


class AlertContact(Base):
    """Personal data: who to ask for at a listed household, for the worker entitled to it.

    Written when the alert is queued, from the protected identity table: the head's name (or the
    latest known member's when the head left the hukou, ``stand_in``), the ID number masked
    (never the plain number), the address and 组 where the hukou delivers them. Read only through
    the jurisdiction layer, every read audited.
    """

    __tablename__ = "alert_contacts"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    head_name: Mapped[str | None] = mapped_column(String(100))
    head_id_masked: Mapped[str | None] = mapped_column(String(24))
    address: Mapped[str | None] = mapped_column(Text)
    group_name: Mapped[str | None] = mapped_column(String(50))
    stand_in: Mapped[bool] = mapped_column(Boolean, default=False)


class VisitTask(Base):
    """A home check (核查) assigned to the responsible worker; what it found is in visit_outcomes."""

    __tablename__ = "visit_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), unique=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    # new: not visited yet (or nobody answered); visited: hardship confirmed and needs or referrals
    # still open; closed: nothing left to do
    status: Mapped[str] = mapped_column(String(10), default="new")


class VisitOutcome(Base):
    """One record of what a home check found. Records are never changed: a correction is a new
    row whose supersedes_id names the record it replaces (each record is replaced at most once),
    so the history of a label stays readable."""

    __tablename__ = "visit_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("visit_tasks.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    # confirmed (确认困难) | no_hardship (暂无困难) | assisted (已在救助) | unreachable (联系不上) |
    # refused (拒绝); only the first two are labels (outreach.outcomes.LABELS)
    result: Mapped[str] = mapped_column(String(12))
    hardship_confirmed: Mapped[bool] = mapped_column(Boolean)  # result == "confirmed"
    note: Mapped[str | None] = mapped_column(Text)
    # web | cli | import | simulated
    source: Mapped[str] = mapped_column(String(10), default="cli", server_default="cli")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("visit_outcomes.id"), unique=True)


class OutcomeNeed(Base):
    """A need found at a confirmed visit (需求: outreach.field.needs in config), for the needs
    register (救助对象需求库) until the township marks it met."""

    __tablename__ = "outcome_needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("visit_outcomes.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | met
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))


class OutcomeRoute(Base):
    """A route taken for a confirmed household (救助路径: outreach.field.routes in config)."""

    __tablename__ = "outcome_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("visit_outcomes.id"), index=True)
    route: Mapped[str] = mapped_column(String(30))


class Referral(Base):
    """A route handled by another department (转办转介): sent by the township, followed up by it."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_town_status", "town_code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("visit_outcomes.id"), index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    town_code: Mapped[str] = mapped_column(String(9))
    route: Mapped[str] = mapped_column(String(30))
    department: Mapped[str] = mapped_column(String(40))
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="sent")  # sent | accepted | done | declined
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class RecipientCheck(Base):
    """One record of a re-verification visit (定期核查) to a household of the score stage's 核查
    (``reverify``) or 渐退 (``phase_out``) list of one month, keyed by the list row (household,
    month, kind). A record never decides anything: ``review`` hands the case to the township's
    own eligibility review, and no household is removed from assistance by it. Records are
    never changed: a correction is a new row whose supersedes_id names the one it replaces."""

    __tablename__ = "recipient_checks"
    __table_args__ = (
        Index("ix_recipient_checks_list", "household_key", "as_of", "kind"),
        Index("ix_recipient_checks_town_as_of", "town_code", "as_of"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_key: Mapped[str] = mapped_column(String(128))
    as_of: Mapped[dt.date] = mapped_column(Date)  # the list's month
    kind: Mapped[str] = mapped_column(String(12))  # reverify | phase_out
    county_code: Mapped[str] = mapped_column(String(6))
    town_code: Mapped[str] = mapped_column(String(9))
    village_code: Mapped[str] = mapped_column(String(12))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    # reverify: still_qualifies | review | unreachable | refused;
    # phase_out: stable | at_risk | unreachable | refused (outreach.checks.CHECK_RESULTS)
    result: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="web", server_default="web")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("recipient_checks.id"), unique=True)


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
