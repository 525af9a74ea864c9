"""Re-verification visits (定期核查) of the 核查 and 渐退 lists: one record per visit, corrections
as new rows (append-only for the app role, like visit_outcomes).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from outreach.dbroles import apply_roles, migration_roles

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipient_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("household_key", sa.String(128), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("town_code", sa.String(9), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(10), nullable=False, server_default="web"),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column(
            "supersedes_id", sa.Integer(), sa.ForeignKey("recipient_checks.id"), nullable=True, unique=True
        ),
    )
    op.create_index("ix_recipient_checks_list", "recipient_checks", ["household_key", "as_of", "kind"])
    op.create_index("ix_recipient_checks_town_as_of", "recipient_checks", ["town_code", "as_of"])
    if op.get_bind().dialect.name == "postgresql":
        apply_roles(op.get_bind(), migration_roles(context))


def downgrade() -> None:
    op.drop_table("recipient_checks")
