"""delegations: an approver's substitute for a date range

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 02:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("substitute", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegations_principal", "delegations", ["principal"])
    op.create_index("ix_delegations_substitute_ends", "delegations", ["substitute", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_delegations_substitute_ends", table_name="delegations")
    op.drop_index("ix_delegations_principal", table_name="delegations")
    op.drop_table("delegations")
