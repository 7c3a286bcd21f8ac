"""records.sla_due_at: when the record's first running service-level clock breaches (issue 16: the agents'
"SLA breaching soon" queue and the records list sorted by it)

The earliest `due_at` of the record's running clocks that are the customer's (operational-level clocks
excluded, as `breached` excludes them), kept by the record's own write (activities/records.py); filled
here from the stored snapshots of the records still open.

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-05 17:40:00
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("records", sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_records_sla_due", "records", ["sla_due_at", "id"])
    records = sa.table(
        "records",
        sa.column("id", sa.String()),
        sa.column("final", sa.Boolean()),
        sa.column("snapshot", sa.JSON()),
        sa.column("sla_due_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.select(records.c.id, records.c.snapshot)
            .where(records.c.final.is_(False), records.c.id > after)
            .order_by(records.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for record_id, snapshot in rows:
            due = _due(json.loads(snapshot) if isinstance(snapshot, str) else snapshot or {})
            if due is not None:
                conn.execute(records.update().where(records.c.id == record_id).values(sla_due_at=due))
        after = rows[-1][0]


def _due(snapshot: dict[str, Any]) -> datetime | None:
    dues = [
        datetime.fromisoformat(str(s["due_at"]).replace("Z", "+00:00"))
        for s in snapshot.get("slas") or []
        if s.get("state") == "running" and not s.get("ola") and s.get("due_at")
    ]
    return min(dues) if dues else None


def downgrade() -> None:
    op.drop_index("ix_records_sla_due", table_name="records")
    op.drop_column("records", "sla_due_at")
