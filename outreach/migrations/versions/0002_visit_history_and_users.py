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


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE users SET created_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(), nullable=False)
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
    with op.batch_alter_table("visit_tasks") as batch:
        for column in OUTCOME_COLUMNS:
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("visit_tasks") as batch:
        batch.add_column(sa.Column("hardship_confirmed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("visited_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("recorded_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("recorded_at", sa.DateTime(), nullable=True))
    # the current record of each task (the one nobody superseded) goes back on the task
    current = (
        "FROM visit_outcomes o WHERE o.task_id = visit_tasks.id "
        "AND NOT EXISTS (SELECT 1 FROM visit_outcomes s WHERE s.supersedes_id = o.id)"
    )
    for column in OUTCOME_COLUMNS:
        op.execute(f"UPDATE visit_tasks SET {column} = (SELECT o.{column} {current})")
    op.drop_index("ix_visit_outcomes_task_id", table_name="visit_outcomes")
    op.drop_table("visit_outcomes")
    with op.batch_alter_table("users") as batch:
        for column in ["created_at", "password_changed_at", "locked_until", "failed_logins", "password_hash"]:
            batch.drop_column(column)
