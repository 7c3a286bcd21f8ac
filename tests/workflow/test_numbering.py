"""Record numbers: one sequence per prefix, each record id numbered once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from core.db import session_scope, write_scope
from core.store import allocate_number


def _number(engine: Engine, record_id: str, prefix: str) -> str:
    with write_scope(engine) as session:
        return allocate_number(session, record_id=record_id, prefix=prefix)


def test_a_new_prefix_starts_at_one_and_counts_up(db_engine: Engine) -> None:
    prefix = "T" + uuid.uuid4().hex[:6].upper()
    first, second = uuid.uuid4().hex[:20], uuid.uuid4().hex[:20]
    assert _number(db_engine, first, prefix) == f"{prefix}0000001"
    assert _number(db_engine, second, prefix) == f"{prefix}0000002"
    # A retried start of the same record gets its number again and uses none up.
    assert _number(db_engine, first, prefix) == f"{prefix}0000001"
    assert _number(db_engine, uuid.uuid4().hex[:20], prefix) == f"{prefix}0000003"


def test_concurrent_starts_get_distinct_numbers(db_engine: Engine) -> None:
    prefix = "C" + uuid.uuid4().hex[:6].upper()
    ids = [uuid.uuid4().hex[:20] for _ in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(lambda rid: _number(db_engine, rid, prefix), ids))
    assert sorted(numbers) == [f"{prefix}{n:07d}" for n in range(1, 13)]
    with session_scope(db_engine) as session:
        again = [allocate_number(session, record_id=rid, prefix=prefix) for rid in ids]
    assert again == numbers
