"""open tail digest: what the record's last write left open, so the usual write reads nothing first

`records.open_digest` is a digest of the audit rows the record's last write left open (those above its
`committed_seq`), as (seq, row digest) pairs. A write whose workflow expects exactly that tail (the
same digest, the same seq) can append without reading the tail back (activities/records.py).
Existing records get an empty digest: their next write takes the careful path once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "records", sa.Column("open_digest", sa.String(length=32), nullable=False, server_default="")
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of `records` would break the audit_events
    # trigger that reads it (SQLite checks triggers when the copy is renamed into place).
    op.drop_column("records", "open_digest")
