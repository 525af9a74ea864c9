"""The web page and the field loop: sign-in sessions and attempts, users over several areas,
list contacts, visit results with needs, routes and referrals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from outreach.dbroles import apply_roles, migration_roles

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_TABLES = (
    "referrals",
    "outcome_routes",
    "outcome_needs",
    "alert_contacts",
    "login_attempts",
    "web_sessions",
    "user_areas",
)
ALERT_INDEXES = {
    "ix_alerts_village_as_of": ["village_code", "as_of"],
    "ix_alerts_county_as_of": ["county_code", "as_of"],
    "ix_alerts_household_code": ["household_code"],
}


def upgrade() -> None:
    op.add_column("users", sa.Column("origin", sa.String(10), nullable=False, server_default="config"))
    op.add_column("users", sa.Column("capacity", sa.Integer(), nullable=True))
    op.create_table(
        "user_areas",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.UniqueConstraint("user_id", "code", name="uq_user_areas_user_code"),
    )
    op.create_index("ix_user_areas_user_id", "user_areas", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_client_at", "login_attempts", ["client", "at"])
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.add_column("alerts", sa.Column("household_code", sa.String(16), nullable=True))
    for name, columns in ALERT_INDEXES.items():
        op.create_index(name, "alerts", columns)
    op.create_table(
        "alert_contacts",
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("head_name", sa.String(100), nullable=True),
        sa.Column("head_id_masked", sa.String(24), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("group_name", sa.String(50), nullable=True),
        sa.Column("stand_in", sa.Boolean(), nullable=False),
    )
    # visit tasks: open → new, done → closed (a recorded visit had nothing to follow up so far)
    op.execute("UPDATE visit_tasks SET status = 'new' WHERE status = 'open'")
    op.execute("UPDATE visit_tasks SET status = 'closed' WHERE status = 'done'")
    # the yes/no of earlier records becomes their result
    op.add_column(
        "visit_outcomes", sa.Column("result", sa.String(12), nullable=False, server_default="no_hardship")
    )
    op.add_column("visit_outcomes", sa.Column("source", sa.String(10), nullable=False, server_default="cli"))
    op.execute("UPDATE visit_outcomes SET result = 'confirmed' WHERE hardship_confirmed")
    op.create_table(
        "outcome_needs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outcome_id", sa.Integer(), sa.ForeignKey("visit_outcomes.id"), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_outcome_needs_outcome_id", "outcome_needs", ["outcome_id"])
    op.create_table(
        "outcome_routes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outcome_id", sa.Integer(), sa.ForeignKey("visit_outcomes.id"), nullable=False),
        sa.Column("route", sa.String(30), nullable=False),
    )
    op.create_index("ix_outcome_routes_outcome_id", "outcome_routes", ["outcome_id"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outcome_id", sa.Integer(), sa.ForeignKey("visit_outcomes.id"), nullable=False),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("town_code", sa.String(9), nullable=False),
        sa.Column("route", sa.String(30), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_referrals_outcome_id", "referrals", ["outcome_id"])
    op.create_index("ix_referrals_alert_id", "referrals", ["alert_id"])
    op.create_index("ix_referrals_town_status", "referrals", ["town_code", "status"])
    if op.get_bind().dialect.name == "postgresql":
        apply_roles(op.get_bind(), migration_roles(context))


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
    op.drop_column("visit_outcomes", "source")
    op.drop_column("visit_outcomes", "result")
    op.execute("UPDATE visit_tasks SET status = 'open' WHERE status = 'new'")
    op.execute("UPDATE visit_tasks SET status = 'done' WHERE status IN ('visited', 'closed')")
    for name in ALERT_INDEXES:
        op.drop_index(name, table_name="alerts")
    op.drop_column("alerts", "household_code")
    op.drop_column("users", "capacity")
    op.drop_column("users", "origin")
