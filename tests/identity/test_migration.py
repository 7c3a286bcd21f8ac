"""Migration 0003 against the models, and back down and up again (a fresh SQLite file)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from core.db import alembic_config, make_engine, migrate


def test_0003_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        ours = [d for d in diff if "admin_events" in str(d) or "users" in str(d)]
        assert ours == [], ours
        with engine.connect() as conn:
            triggers = {
                r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
            }
        assert {"admin_events_no_update", "admin_events_no_delete"} <= triggers

        command.downgrade(alembic_config(url), "0002")
        engine.dispose()
        assert "admin_events" not in inspect(engine).get_table_names()
        assert "must_change_password" not in {c["name"] for c in inspect(engine).get_columns("users")}
        migrate(url)
        engine.dispose()
        assert "admin_events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
