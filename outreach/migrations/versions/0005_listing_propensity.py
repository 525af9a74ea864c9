"""Exploration with known propensities: how each alert was listed (by rank or drawn at random
for exploration) and the probability with which it was listed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("selection", sa.String(10), nullable=False, server_default="rank"))
    op.add_column("alerts", sa.Column("listing_probability", sa.Float(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.drop_column("alerts", "listing_probability")
    op.drop_column("alerts", "selection")
