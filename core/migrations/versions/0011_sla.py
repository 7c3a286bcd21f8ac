"""sla: agreements with versions, and outages on services

Issue 21: `sla_agreements` holds every version of every service level agreement (the spec as JSON, the
approved change that made a later version); `sla_outages` the times a service was unavailable; `sla_record_agreements` which agreement version
each record runs on. The
tables' models live in sla/tables.py.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("change_ref", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "version", name="uq_sla_agreements_key_version"),
    )
    op.create_index("ix_sla_agreements_service_status", "sla_agreements", ["service", "status"])
    op.create_table(
        "sla_outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("incident", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_outages_service_start", "sla_outages", ["service", "start"])
    op.create_table(
        "sla_record_agreements",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("agreement_key", sa.String(length=64), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index(
        "ix_sla_record_agreements_key", "sla_record_agreements", ["agreement_key", "agreement_version"]
    )


def downgrade() -> None:
    op.drop_index("ix_sla_record_agreements_key", table_name="sla_record_agreements")
    op.drop_table("sla_record_agreements")
    op.drop_index("ix_sla_outages_service_start", table_name="sla_outages")
    op.drop_table("sla_outages")
    op.drop_index("ix_sla_agreements_service_status", table_name="sla_agreements")
    op.drop_table("sla_agreements")
