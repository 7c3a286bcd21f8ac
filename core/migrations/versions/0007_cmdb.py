"""cmdb: model versions, configuration items, their unique keys, relationships and versions

The configuration management database (issue 17): `cmdb_models` holds the published model's YAML
versions; `cmdb_cis` the CIs (attributes as JSON); `cmdb_ci_keys` one row per unique attribute value of
an active CI (its primary key enforces uniqueness); `cmdb_relations` the typed relationships, indexed
both ways for impact analysis; `cmdb_ci_versions` every change to a CI, append-only like
`audit_events` (triggers refuse UPDATE and DELETE, and TRUNCATE on PostgreSQL). The tables' models
live in cmdb/tables.py.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER cmdb_ci_versions_no_update BEFORE UPDATE ON cmdb_ci_versions
       BEGIN SELECT RAISE(ABORT, 'cmdb_ci_versions is append-only'); END""",
    """CREATE TRIGGER cmdb_ci_versions_no_delete BEFORE DELETE ON cmdb_ci_versions
       BEGIN SELECT RAISE(ABORT, 'cmdb_ci_versions is append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    """CREATE OR REPLACE FUNCTION cmdb_ci_versions_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'cmdb_ci_versions is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER cmdb_ci_versions_no_change BEFORE UPDATE OR DELETE ON cmdb_ci_versions
       FOR EACH ROW EXECUTE FUNCTION cmdb_ci_versions_append_only()""",
    """CREATE TRIGGER cmdb_ci_versions_no_truncate BEFORE TRUNCATE ON cmdb_ci_versions
       FOR EACH STATEMENT EXECUTE FUNCTION cmdb_ci_versions_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "cmdb_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_table(
        "cmdb_cis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=48), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cmdb_cis_class_name", "cmdb_cis", ["class_name", "name"])
    op.create_index("ix_cmdb_cis_name", "cmdb_cis", ["name"])
    op.create_table(
        "cmdb_ci_keys",
        sa.Column("class_name", sa.String(length=48), nullable=False),
        sa.Column("attribute", sa.String(length=48), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("ci_id", sa.Integer(), sa.ForeignKey("cmdb_cis.id"), nullable=False),
        sa.PrimaryKeyConstraint("class_name", "attribute", "value"),
    )
    op.create_index("ix_cmdb_ci_keys_ci_id", "cmdb_ci_keys", ["ci_id"])
    op.create_table(
        "cmdb_relations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("cmdb_cis.id"), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("cmdb_cis.id"), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("type", "source_id", "target_id"),
    )
    op.create_index("ix_cmdb_relations_source_id", "cmdb_relations", ["source_id"])
    op.create_index("ix_cmdb_relations_target_id", "cmdb_relations", ["target_id"])
    op.create_table(
        "cmdb_ci_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ci_id", sa.Integer(), sa.ForeignKey("cmdb_cis.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("record_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cmdb_ci_versions_ci_id", "cmdb_ci_versions", ["ci_id"])
    for statement in (
        APPEND_ONLY_POSTGRES if op.get_bind().dialect.name == "postgresql" else APPEND_ONLY_SQLITE
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cmdb_ci_versions_no_truncate ON cmdb_ci_versions")
        op.execute("DROP TRIGGER IF EXISTS cmdb_ci_versions_no_change ON cmdb_ci_versions")
        op.execute("DROP FUNCTION IF EXISTS cmdb_ci_versions_append_only()")
    for table in ("cmdb_ci_versions", "cmdb_relations", "cmdb_ci_keys", "cmdb_cis", "cmdb_models"):
        op.drop_table(table)
