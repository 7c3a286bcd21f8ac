"""tentative audit rows: a digest and a seal on each row, the writer's fence on each record

Audit rows written by a workflow task that Temporal has not committed yet are tentative: the next
write of the record replaces them if Temporal discarded that task, and seals them once it is
committed. The append-only triggers now refuse every change to a sealed row, and to a tentative row
anything but being sealed or deleted. Rows that exist already are sealed.

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

# Every column of audit_events but `tentative`: sealing may change nothing else.
_SAME = " AND ".join(
    f"NEW.{c} IS OLD.{c}"
    for c in (
        "id",
        "record_id",
        "seq",
        "at",
        "actor",
        "action",
        "from_state",
        "to_state",
        "comment",
        "details",
        "digest",
    )
)

SEALED_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       WHEN NOT (OLD.tentative AND NOT NEW.tentative AND {_SAME})
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: a sealed row never changes'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       WHEN NOT OLD.tentative
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: a sealed row is never deleted'); END""",
]
SEALED_POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN
           IF OLD.tentative THEN RETURN OLD; END IF;
           RAISE EXCEPTION 'audit_events is append-only: a sealed row is never deleted';
         END IF;
         IF OLD.tentative AND NOT NEW.tentative
            AND (to_jsonb(NEW) - 'tentative') = (to_jsonb(OLD) - 'tentative') THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_events is append-only: a sealed row never changes';
       END; $$ LANGUAGE plpgsql""",
]
APPEND_ONLY_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql""",
]


def _run(sqlite: list[str], postgres: list[str]) -> None:
    for statement in postgres if op.get_bind().dialect.name == "postgresql" else sqlite:
        op.execute(statement)


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy), so the triggers and the rows stay as they are.
    op.add_column("audit_events", sa.Column("digest", sa.String(length=32), nullable=True))
    op.add_column(
        "audit_events", sa.Column("tentative", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("records", sa.Column("write_base", sa.Integer(), nullable=False, server_default="0"))
    _run(SEALED_SQLITE, SEALED_POSTGRES)


def downgrade() -> None:
    # Tentative rows are sealed as they are: the old schema has no other kind.
    _run(["DROP TRIGGER IF EXISTS audit_events_no_update"], [])
    op.execute("UPDATE audit_events SET tentative = false WHERE tentative")
    _run(APPEND_ONLY_SQLITE, APPEND_ONLY_POSTGRES)
    with op.batch_alter_table("records") as batch_op:
        batch_op.drop_column("write_base")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("tentative")
        batch_op.drop_column("digest")
