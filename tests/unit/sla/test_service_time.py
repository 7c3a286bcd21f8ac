"""Response and resolution times against the agreement's targets, on the wall clock (in the database)
and in the agreement's service hours (Mon–Fri 09:00–18:00 UTC here), against hand-worked figures —
SQLite, and PostgreSQL with -m db."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine

from core.db import session_scope
from core.tables import RecordRow
from definitions.calendar import BusinessCalendar
from sla.agreements import save_agreement
from sla.service_time import resolution_figures, response_figures, service_hours
from sla.tables import RecordAgreementRow
from tests.unit.sla.test_agreements import NOW, spec


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 2 November 2026 is a Monday


RECORDS = (
    # priority, created, first response, resolved
    (
        "1",
        at(2, 17),
        at(2, 17, 30),
        at(3, 11),
    ),  # response 0.5 h (over 15 min); resolution 18 h wall, 3 h service
    ("1", at(4, 10), at(4, 10, 10), at(4, 16)),  # response 10 min; resolution 6 h both (over 4 h)
    ("1", at(6, 17), at(9, 9, 5), None),  # Friday 17:00 to Monday 09:05: 64.08 h wall, 1.08 h service
    ("3", at(3, 10), None, None),  # not responded yet
    ("1", at(12, 10), at(12, 10, 1), None),  # after the period
)


def _agreement(engine: Engine) -> str:
    with session_scope(engine) as s:
        agreement = save_agreement(
            s, f"t-{uuid.uuid4().hex[:8]}", spec(f"svc-{uuid.uuid4().hex}"), actor="x", now=NOW
        )
        for priority, created, responded, resolved in RECORDS:
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
                    fields={},
                    snapshot={},
                    created_at=created,
                    updated_at=created,
                    responded_at=responded,
                    resolved_at=resolved,
                )
            )
            s.add(RecordAgreementRow(record_id=rid, agreement_key=agreement.key, agreement_version=1))
        return agreement.key


def _figures(engine: Engine, key: str, which: str) -> list[tuple[object, ...]]:
    from sla.agreements import agreement_versions

    with session_scope(engine) as s:
        (agreement,) = agreement_versions(s, key)
        compute = response_figures if which == "response" else resolution_figures
        return [
            (
                f.priority,
                f.records,
                f.measured,
                f.mean_hours,
                f.max_hours,
                f.mean_service_hours,
                f.max_service_hours,
                f.target_hours,
                f.over_target,
            )
            for f in compute(s, agreement, at(1, 0), at(10, 0))
        ]


def test_response_times_per_priority_match_hand_worked_figures(db_engine: Engine) -> None:
    key = _agreement(db_engine)
    assert _figures(db_engine, key, "response") == [
        # wall: (0.5 + 0.1667 + 64.0833) / 3; service: (0.5 + 0.1667 + 1.0833) / 3; target 15 min
        ("1", 3, 3, 21.58, 64.08, 0.58, 1.08, 0.25, 2),
        ("3", 1, 0, None, None, None, None, 0.75, 0),
    ]


def test_resolution_times_in_service_hours_match_hand_worked_figures(db_engine: Engine) -> None:
    key = _agreement(db_engine)
    assert _figures(db_engine, key, "resolution") == [
        # wall: 18 h and 6 h; service: Mon 17–18 + Tue 09–11 = 3 h, and 6 h; target 4 h
        ("1", 3, 2, 12.0, 18.0, 4.5, 6.0, 4.0, 1),
        ("3", 1, 0, None, None, None, None, 12.0, 0),
    ]


def test_service_hours_skip_nights_and_weekends() -> None:
    business = BusinessCalendar(timezone="UTC")
    assert service_hours(business, at(6, 17), at(9, 9, 30)) == 1.5
    assert service_hours(BusinessCalendar(always=True, timezone="UTC"), at(6, 17), at(9, 9)) == 64.0
