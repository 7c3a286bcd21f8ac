"""The records an agreement covered, per priority, computed in the database (SQLite, and PostgreSQL with
-m db), against hand-worked figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine

from core.db import session_scope
from core.tables import RecordRow
from sla.agreements import save_agreement
from sla.records import record_figures
from sla.tables import RecordAgreementRow
from tests.unit.sla.test_agreements import NOW, spec


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_resolution_figures_per_priority_match_hand_worked_data(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        agreement = save_agreement(
            s, f"r-{uuid.uuid4().hex[:8]}", spec(f"svc-{uuid.uuid4().hex}"), actor="x", now=NOW
        )
        for priority, created, resolved, breached in (
            ("1", at(2, 10), at(2, 12), False),  # 2 h
            ("1", at(3, 10), at(3, 16), True),  # 6 h, breached
            ("3", at(4, 10), None, False),  # still open
            ("1", at(10, 10), at(10, 11), False),  # after the period
        ):
            rid = uuid.uuid4().hex[:20]
            s.add(
                RecordRow(
                    id=rid,
                    number=f"INC-{rid[:8]}",
                    definition_key="incident",
                    definition_version=1,
                    state="resolved" if resolved else "new",
                    state_category="resolved" if resolved else "new",
                    priority=priority,
                    breached=breached,
                    fields={},
                    snapshot={},
                    created_at=created,
                    updated_at=created,
                    resolved_at=resolved,
                )
            )
            s.add(RecordAgreementRow(record_id=rid, agreement_key=agreement.key, agreement_version=1))
    with session_scope(db_engine) as s:
        figures = record_figures(s, agreement, at(1, 0), at(9, 0))
    assert [
        (
            f.priority,
            f.records,
            f.resolved,
            f.breached,
            f.mean_resolution_hours,
            f.max_resolution_hours,
            f.resolution_target_hours,
        )
        for f in figures
    ] == [("1", 2, 2, 1, 4.0, 6.0, 4.0), ("3", 1, 0, 0, None, None, 12.0)]
