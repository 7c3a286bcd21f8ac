"""record_cis: which configuration items each record's `ci` fields name

An index from a CI to the records that name it (impact analysis lists the open incidents, problems and
changes on the CIs a failure reaches; a CI's page lists its records). Maintained by the record's own
write (activities/records.py); records started before it name no CI.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_cis",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("ci_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "field", "ci_id"),
    )
    op.create_index("ix_record_cis_ci_id", "record_cis", ["ci_id"])


def downgrade() -> None:
    op.drop_index("ix_record_cis_ci_id", table_name="record_cis")
    op.drop_table("record_cis")
