"""Migration 0013 (records.responded_at) against the model, its backfill from the audit trail, and down
and up again (SQLite; PostgreSQL runs every migration in the `-m db` phase's set-up)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from core.db import alembic_config, make_engine, migrate


def test_0013_matches_the_model_backfills_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(alembic_config(url), "0018")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO records (id, number, definition_key, definition_version, title, state, "
                    "state_category, final, breached, fields, snapshot, seq, committed_seq, open_digest, "
                    "created_at, updated_at) VALUES ('r1', 'INC1', 'incident', 1, 't', 'in_progress', "
                    "'open', 0, 0, '{}', '{}', 3, 3, '', '2026-03-02 09:00:00', '2026-03-02 09:30:00')"
                )
            )
            for seq, at, action, src, dst in (
                (1, "2026-03-02 09:00:00", "created", None, "new"),
                (2, "2026-03-02 09:10:00", "transition", "new", "new"),
                (3, "2026-03-02 09:20:00", "transition", "new", "in_progress"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO audit_events (record_id, seq, at, actor, action, from_state, to_state, "
                        "details, digest) VALUES ('r1', :seq, :at, 'bob', :action, :src, :dst, '{}', '')"
                    ),
                    {"seq": seq, "at": at, "action": action, "src": src, "dst": dst},
                )
        migrate(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            assert [d for d in diff if "responded_at" in str(d)] == []
            value = conn.execute(text("SELECT responded_at FROM records WHERE id = 'r1'")).scalar_one()
        assert datetime.fromisoformat(str(value)).replace(tzinfo=UTC) == datetime(
            2026, 3, 2, 9, 20, tzinfo=UTC
        )
        command.downgrade(alembic_config(url), "0018")
        assert "responded_at" not in {c["name"] for c in inspect(engine).get_columns("records")}
        migrate(url)
        assert "responded_at" in {c["name"] for c in inspect(engine).get_columns("records")}
    finally:
        engine.dispose()
