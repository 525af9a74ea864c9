"""Visit outcomes as history (a correction supersedes, never overwrites); users ready for sign-in.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OUTCOME_COLUMNS = ["hardship_confirmed", "visited_on", "note", "recorded_by", "recorded_at"]
USER_COLUMNS = ["password_hash", "failed_logins", "locked_until", "password_changed_at", "created_at"]
# Plain ADD/DROP COLUMN on both databases (SQLite >= 3.35): a batch copy of users or visit_tasks
# would drop a table other tables point at, which SQLite refuses with foreign keys on.


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(255), nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("created_at", sa.DateTime(), nullable=True))  # unknown before now
    op.create_table(
        "visit_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("visit_tasks.id"), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("hardship_confirmed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column(
            "supersedes_id", sa.Integer(), sa.ForeignKey("visit_outcomes.id"), nullable=True, unique=True
        ),
    )
    op.create_index("ix_visit_outcomes_task_id", "visit_outcomes", ["task_id"])
    # the one outcome a task could hold so far becomes its first record
    op.execute(
        "INSERT INTO visit_outcomes (task_id, visited_on, hardship_confirmed, note, recorded_by_id, "
        "recorded_by, recorded_at) SELECT t.id, t.visited_on, t.hardship_confirmed, t.note, u.id, "
        "t.recorded_by, t.recorded_at FROM visit_tasks t LEFT JOIN users u ON u.name = t.recorded_by "
        "WHERE t.status = 'done' AND t.visited_on IS NOT NULL"
    )
    for column in OUTCOME_COLUMNS:
        op.drop_column("visit_tasks", column)


def downgrade() -> None:
    op.add_column("visit_tasks", sa.Column("hardship_confirmed", sa.Boolean(), nullable=True))
    op.add_column("visit_tasks", sa.Column("visited_on", sa.Date(), nullable=True))
    op.add_column("visit_tasks", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("visit_tasks", sa.Column("recorded_by", sa.String(100), nullable=True))
    op.add_column("visit_tasks", sa.Column("recorded_at", sa.DateTime(), nullable=True))
    # the current record of each task (the one nobody superseded) goes back on the task
    current = (
        "FROM visit_outcomes o WHERE o.task_id = visit_tasks.id "
        "AND NOT EXISTS (SELECT 1 FROM visit_outcomes s WHERE s.supersedes_id = o.id)"
    )
    for column in OUTCOME_COLUMNS:
        op.execute(f"UPDATE visit_tasks SET {column} = (SELECT o.{column} {current})")
    op.drop_index("ix_visit_outcomes_task_id", table_name="visit_outcomes")
    op.drop_table("visit_outcomes")
    for column in reversed(USER_COLUMNS):
        op.drop_column("users", column)
