"""CI changes proposed on change records, applied when the change is implemented and verified

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cmdb_ci_proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("record_number", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("ci_id", sa.Integer(), sa.ForeignKey("cmdb_cis.id"), nullable=True),
        sa.Column("class_name", sa.String(length=48), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_ci_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
    )
    op.create_index("ix_cmdb_ci_proposals_record_id", "cmdb_ci_proposals", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_cmdb_ci_proposals_record_id", table_name="cmdb_ci_proposals")
    op.drop_table("cmdb_ci_proposals")
