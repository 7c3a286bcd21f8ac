"""Which definition version a new record is pinned to, and that each version is parsed once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from client.launch import DefinitionNotFound, pinned_definition
from core.db import session_scope
from core.store import add_definition_version, get_definition, set_definition_status
from definitions.loader import definition_hash, load_text
from tests.paths import FIXTURES

MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")


def _store(engine: Engine, key: str, title: str, *, publish: bool) -> int:
    source = MINI.replace("key: mini", f"key: {key}").replace("en: Test process", f"en: {title}")
    d = load_text(source).definition
    assert d is not None
    with session_scope(engine) as session:
        row = add_definition_version(
            session,
            key=key,
            source=source,
            digest=definition_hash(d),
            title_en=title,
            title_zh="",
            actor="po",
        )
        if publish:
            set_definition_status(session, row, status="published", actor="po")
        return row.version


def _publish(engine: Engine, key: str, version: int) -> None:
    with session_scope(engine) as session:
        row = get_definition(session, key, version)
        assert row is not None
        set_definition_status(session, row, status="published", actor="po")


def test_new_records_get_the_newest_published_version(db_engine: Engine) -> None:
    key = f"pin{uuid.uuid4().hex[:8]}"
    with pytest.raises(DefinitionNotFound, match=f"no published definition '{key}'"):
        pinned_definition(db_engine, key)

    v1 = _store(db_engine, key, "First", publish=True)
    first = pinned_definition(db_engine, key)
    assert (first.version, first.definition.title.en) == (v1, "First")
    assert pinned_definition(db_engine, key) is first  # parsed once, then shared

    v2 = _store(db_engine, key, "Second", publish=False)
    assert pinned_definition(db_engine, key) is first  # a draft is not for new records
    assert pinned_definition(db_engine, key, v2).definition.title.en == "Second"  # asked for by number

    _publish(db_engine, key, v2)
    second = pinned_definition(db_engine, key)
    assert (second.version, second.definition.title.en) == (v2, "Second")
    assert pinned_definition(db_engine, key, v1) is first
    with pytest.raises(DefinitionNotFound):
        pinned_definition(db_engine, key, v2 + 1)
