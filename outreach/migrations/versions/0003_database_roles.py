"""PostgreSQL: an owner role owns the tables and the audit trigger; the application role may only
INSERT and SELECT on audit_log (see outreach.dbroles). Nothing to do on SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import context, op

from outreach.config import DatabaseRoles
from outreach.dbroles import apply_roles, revoke_roles

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _roles() -> DatabaseRoles:
    """The configured roles (outreach.database_roles), else -x owner_role=... app_role=..., else defaults."""
    given = context.config.attributes.get("database_roles")
    if given is not None:
        return given
    x = context.get_x_argument(as_dictionary=True)
    return DatabaseRoles(**{k: x[f"{k}_role"] for k in ("owner", "app") if f"{k}_role" in x})


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        apply_roles(op.get_bind(), _roles())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        revoke_roles(op.get_bind(), _roles())
