"""Migration 0011 against sla/tables.py, and down and up again (SQLite)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import sla.tables  # noqa: F401  (registers the agreements' tables on the metadata)
from core.db import alembic_config, make_engine, migrate


def test_0011_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert [d for d in diff if "sla_" in str(d)] == []
        command.downgrade(alembic_config(url), "0010")
        assert not {"sla_agreements", "sla_outages", "sla_record_agreements"} & set(
            inspect(engine).get_table_names()
        )
        migrate(url)
        assert {"sla_agreements", "sla_outages", "sla_record_agreements"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()
