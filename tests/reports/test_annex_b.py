"""JR/T 0074-2012 App. B (seed 003): every indicator is computed by an indicator set or says which input
the product lacks; the indicators added for B.3 and B.6 against hand-worked records (SQLite, and
PostgreSQL with -m db)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from core.db import session_scope
from core.tables import AuditRow, RecordRow
from reports.coverage import CATALOGUE
from reports.kpis import compute_kpis
from reports.model import Period


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def add(s: Any, definition: str, created: datetime, accepted: datetime | None = None, **fields: Any) -> str:
    rid = uuid.uuid4().hex[:20]
    s.add(
        RecordRow(
            id=rid,
            number=f"B-{rid[:12]}",
            definition_key=definition,
            definition_version=1,
            title="annex b",
            state="in_progress" if accepted else "new",
            state_category="open" if accepted else "new",
            priority="3",
            fields=fields,
            snapshot={},
            created_at=created,
            updated_at=created,
        )
    )
    s.add(AuditRow(record_id=rid, seq=1, at=created, actor="x", action="created", to_state="new", details={}))
    if accepted:
        s.add(
            AuditRow(
                record_id=rid,
                seq=2,
                at=accepted,
                actor="x",
                action="transition",
                from_state="new",
                to_state="in_progress",
                details={},
            )
        )
    return rid


def test_every_app_b_indicator_is_computed_or_says_what_is_missing(db_engine: Engine) -> None:
    keys: dict[str, set[str]] = {}
    with session_scope(db_engine) as s:
        for kind in {c.kind for c in CATALOGUE if c.kind}:
            report = compute_kpis(s, definition=kind, kind=kind, period=Period(start=at(11, 1)))
            keys[kind] = {k.key for k in report.indicators}
    for c in CATALOGUE:
        if c.kind is None:
            assert c.missing is not None and c.missing.zh and c.missing.en, c
        else:
            assert c.key in keys[c.kind], c
    assert len({c.clause for c in CATALOGUE}) == 12  # B.1 … B.12


def test_security_response_and_detection_from_hand_worked_records(db_engine: Engine) -> None:
    key = f"incident_{uuid.uuid4().hex[:8]}"  # records of their own (the test database is shared)
    with session_scope(db_engine) as s:
        # accepted after 20 min; a major security incident
        add(s, key, at(3, 2), at(3, 2, 10, 20), category="security", major_incident=True)
        # accepted after 40 min; the interruption began 30 min before it was reported
        begun = "2026-03-02T10:30:00+00:00"
        add(s, key, at(3, 2, 11), at(3, 2, 11, 40), category="security", interruption_start=begun)
        add(s, key, at(3, 3), category="network")  # never accepted: no response time
    march = Period(start=at(3, 1, 0), end=at(4, 1, 0))
    with session_scope(db_engine) as s:
        kpis = {k.key: k for k in compute_kpis(s, definition=key, kind="incident", period=march).indicators}
    assert kpis["security_incidents"].value == 2 and kpis["major_security_incidents"].value == 1
    assert kpis["mean_detection_time"].value == 30.0
    assert kpis["mean_response_time"].value == 30.0  # (20 + 40) / 2
