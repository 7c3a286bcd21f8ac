"""Migration 0005 against cmdb/tables.py, its append-only versions, and down and up again (SQLite; the
API tests run every CMDB query on PostgreSQL too)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import SQLModel

import cmdb.tables  # noqa: F401  (registers the CMDB tables on the metadata)
from core.db import alembic_config, make_engine, migrate


def test_0005_matches_the_models_keeps_versions_append_only_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert [d for d in diff if "cmdb" in str(d)] == []
        now = datetime.now(UTC).isoformat()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cmdb_cis (class_name, name, status, attributes, model_version, created_by,"
                    " created_at, updated_by, updated_at) VALUES ('server', 'a', 'active', '{}', 0, 'x', :t, 'x', :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO cmdb_ci_versions (ci_id, at, actor, action, changes) VALUES (1, :t, 'x', 'created', '{}')"
                ),
                {"t": now},
            )
        for statement in ("UPDATE cmdb_ci_versions SET actor = 'y'", "DELETE FROM cmdb_ci_versions"):
            with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        command.downgrade(alembic_config(url), "0006")
        engine.dispose()
        assert not [t for t in inspect(engine).get_table_names() if t.startswith("cmdb_")]
        migrate(url)
        engine.dispose()
        assert "cmdb_ci_versions" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
