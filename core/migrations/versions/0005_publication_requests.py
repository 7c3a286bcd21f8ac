"""four-eyes publishing: a draft's pending publication request (who asked, when)

With `ITILFLOW_PUBLISH_REQUIRES_SECOND_OWNER`, a process owner asks for a draft to be published and
another one approves; until then the draft carries who asked and when. A refusal clears them; the
history of requests, approvals and refusals is in `definition_events` and the admin audit trail.
Plain ADD COLUMN of nullable columns: no table copy on SQLite or PostgreSQL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("definitions", sa.Column("publication_requested_by", sa.String(length=64), nullable=True))
    op.add_column(
        "definitions", sa.Column("publication_requested_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("definitions") as batch:
        batch.drop_column("publication_requested_at")
        batch.drop_column("publication_requested_by")
