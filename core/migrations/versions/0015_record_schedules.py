"""record_schedules: scheduled records and the history of their runs

Issue 20: `record_schedules` holds each process owner's schedule (the definition, title and fields to
start with, the recurrence rule and calendar, owner, catch-up policy, paused); a Temporal Schedule per
row fires it. `schedule_runs` is what each due occurrence did, unique per (schedule, occurrence). The
tables' models live in recurring/tables.py.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-05 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014_report_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_schedules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("calendar", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("catch_up", sa.String(length=8), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_record_schedules_definition", "record_schedules", ["definition"])
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("message_en", sa.String(length=1000), nullable=True),
        sa.Column("message_zh", sa.String(length=1000), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "scheduled_at", name="uq_schedule_runs_occurrence"),
    )
    op.create_index("ix_schedule_runs_schedule", "schedule_runs", ["schedule_id", "scheduled_at"])


def downgrade() -> None:
    op.drop_index("ix_schedule_runs_schedule", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_index("ix_record_schedules_definition", table_name="record_schedules")
    op.drop_table("record_schedules")
