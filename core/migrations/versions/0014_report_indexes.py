"""report indexes: records by creation time

Issue 21: reports count the records created in a period — the service report's sections (per agreement),
its trend over the previous periods and each process's key indicators — so the read model indexes the
creation time, alone and after the definition key. Without them every report scans every record.

Revision ID: 0014_report_indexes
Revises: 0013
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0014_report_indexes"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_records_created", "records", ["created_at"])
    op.create_index("ix_records_def_created", "records", ["definition_key", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_records_def_created", table_name="records")
    op.drop_index("ix_records_created", table_name="records")
