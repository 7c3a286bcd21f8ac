"""records.responded_at: when a record was first responded to (issue 21, docs/sla.md)

The first response is the record's first change of state (it then leaves its initial state: accepted,
sent to wait, resolved or cancelled). Filled from the audit trail for the records that already have one;
kept by the record's own write afterwards (activities/records.py).

Revision ID: 0013
Revises: 0018 (the head when it was written; re-chained at merge)
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
    records = sa.table("records", sa.column("id", sa.String()), sa.column("responded_at", sa.DateTime()))
    audit = sa.table(
        "audit_events",
        sa.column("record_id", sa.String()),
        sa.column("at", sa.DateTime()),
        sa.column("action", sa.String()),
        sa.column("from_state", sa.String()),
        sa.column("to_state", sa.String()),
    )
    first = (
        sa.select(sa.func.min(audit.c.at))
        .where(
            audit.c.record_id == records.c.id,
            audit.c.action == "transition",
            audit.c.from_state != audit.c.to_state,
        )
        .scalar_subquery()
    )
    op.get_bind().execute(sa.update(records).values(responded_at=first))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), as 0004: a batch copy of `records` would break the
    # audit_events trigger that reads it.
    op.drop_column("records", "responded_at")
