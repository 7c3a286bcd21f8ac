"""record_windows: each record's planned window as instants, indexed

The change schedule and the workflow's conflict check find the records planned over a period here
instead of comparing every record's JSON fields as text. Filled from the records that already have
planned dates; kept by the record's own write afterwards (activities/records.py).

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-05 13:05:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


def planned_window(fields: dict[str, object]) -> tuple[datetime, datetime] | None:
    """As core.tables.planned_window when this migration was written (kept here: a migration must not
    change meaning when the application's code does)."""
    ends = []
    for name in ("planned_start", "planned_end"):
        value = fields.get(name)
        if not isinstance(value, str):
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        ends.append(moment.astimezone(UTC))
    return (ends[0], ends[1]) if ends[0] < ends[1] else None


revision = "0018"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_windows",
        sa.Column("record_id", sa.String(length=64), primary_key=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
    )
    op.create_index("ix_record_windows_starts_at", "record_windows", ["starts_at"])
    op.create_index("ix_record_windows_duration_s", "record_windows", ["duration_s"])
    conn = op.get_bind()
    records = sa.table("records", sa.column("id", sa.String()), sa.column("fields", sa.JSON()))
    windows = sa.table(
        "record_windows",
        sa.column("record_id", sa.String()),
        sa.column("starts_at", sa.DateTime(timezone=True)),
        sa.column("ends_at", sa.DateTime(timezone=True)),
        sa.column("duration_s", sa.Integer()),
    )
    batch: list[dict[str, object]] = []
    for record_id, fields in conn.execute(sa.select(records.c.id, records.c.fields)):
        window = planned_window(fields or {}) if isinstance(fields, dict) else None
        if window is not None:
            start, end = window
            batch.append(
                {
                    "record_id": record_id,
                    "starts_at": start,
                    "ends_at": end,
                    "duration_s": int((end - start).total_seconds()),
                }
            )
        if len(batch) >= 2000:
            conn.execute(windows.insert(), batch)
            batch = []
    if batch:
        conn.execute(windows.insert(), batch)


def downgrade() -> None:
    op.drop_index("ix_record_windows_duration_s", table_name="record_windows")
    op.drop_index("ix_record_windows_starts_at", table_name="record_windows")
    op.drop_table("record_windows")
