"""identity: passwords, lockout and external sign-in on users; the append-only admin_events table

Users get where they sign in (local, ldap, oidc) with their directory id, whether they must change a
temporary password, the failed-password counter and the lock it sets, and their last sign-in.
`admin_events` records every administrative action; like `audit_events` it is append-only in the
database: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER admin_events_no_update BEFORE UPDATE ON admin_events
       BEGIN SELECT RAISE(ABORT, 'admin_events is append-only'); END""",
    """CREATE TRIGGER admin_events_no_delete BEFORE DELETE ON admin_events
       BEGIN SELECT RAISE(ABORT, 'admin_events is append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    """CREATE OR REPLACE FUNCTION admin_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'admin_events is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER admin_events_no_change BEFORE UPDATE OR DELETE ON admin_events
       FOR EACH ROW EXECUTE FUNCTION admin_events_append_only()""",
    """CREATE TRIGGER admin_events_no_truncate BEFORE TRUNCATE ON admin_events
       FOR EACH STATEMENT EXECUTE FUNCTION admin_events_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "admin_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_events_at", "admin_events", ["at"])
    op.create_index("ix_admin_events_actor", "admin_events", ["actor"])
    op.create_index("ix_admin_events_action", "admin_events", ["action"])
    for statement in (
        APPEND_ONLY_POSTGRES if op.get_bind().dialect.name == "postgresql" else APPEND_ONLY_SQLITE
    ):
        op.execute(statement)

    # Plain ADD COLUMN (no table copy) on both databases.
    op.add_column(
        "users", sa.Column("auth_source", sa.String(length=16), nullable=False, server_default="local")
    )
    op.add_column("users", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.add_column(
        "users", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        for column in (
            "last_login_at",
            "locked_until",
            "failed_logins",
            "password_changed_at",
            "must_change_password",
            "external_id",
            "auth_source",
        ):
            batch_op.drop_column(column)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE admin_events")
        op.execute("DROP FUNCTION IF EXISTS admin_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS admin_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS admin_events_no_delete")
        op.drop_table("admin_events")
