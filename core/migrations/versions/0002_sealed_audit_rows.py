"""sealed audit rows: a digest on each audit row, what Temporal committed on each record

An audit row is sealed once Temporal has committed the workflow task that wrote it: its seq is at most
its record's `committed_seq`. Until then the record's next write may delete it (Temporal discarded that
task and its retry gave the number to another action). The append-only triggers now refuse every
UPDATE, every DELETE of a sealed row, and (PostgreSQL) TRUNCATE. Existing rows are sealed: their
records' committed_seq starts at their seq.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SEALED = "OLD.seq <= COALESCE((SELECT committed_seq FROM records WHERE id = OLD.record_id), OLD.seq)"

SEALED_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       WHEN {_SEALED}
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: a sealed row is never deleted'); END""",
]
SEALED_POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND NOT ({_SEALED}) THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'audit_events is append-only: a sealed row never changes (%)', TG_OP;
       END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]
APPEND_ONLY_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql""",
]


def _run(sqlite: list[str], postgres: list[str]) -> None:
    for statement in postgres if op.get_bind().dialect.name == "postgresql" else sqlite:
        op.execute(statement)


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy), so the triggers and the rows stay as they are.
    op.add_column("audit_events", sa.Column("digest", sa.String(length=32), nullable=True))
    op.add_column("records", sa.Column("committed_seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE records SET committed_seq = seq")
    _run(SEALED_SQLITE, SEALED_POSTGRES)


def downgrade() -> None:
    _run(APPEND_ONLY_SQLITE, APPEND_ONLY_POSTGRES)
    with op.batch_alter_table("records") as batch_op:
        batch_op.drop_column("committed_seq")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("digest")
