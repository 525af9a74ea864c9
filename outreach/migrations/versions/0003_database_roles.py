"""PostgreSQL: an owner role owns the tables and the audit trigger; the application role may only
INSERT and SELECT on audit_log (see outreach.dbroles). Nothing to do on SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import context, op

from outreach.dbroles import apply_roles, migration_roles, revoke_roles

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        apply_roles(op.get_bind(), migration_roles(context))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        revoke_roles(op.get_bind(), migration_roles(context))
