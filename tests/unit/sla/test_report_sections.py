"""The service report's record sections against hand-worked data, computed in the database (SQLite, and
PostgreSQL with -m db): attainment per indicator, deviations with reasons, major incidents, satisfaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from core.db import session_scope
from core.tables import RecordRow
from sla.agreements import save_agreement
from sla.report_sections import (
    attainment,
    deviations,
    major_incidents,
    mean_resolution_hours,
    satisfaction,
    volume,
)
from sla.tables import AgreementRow, RecordAgreementRow
from tests.unit.sla.test_agreements import NOW, spec


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def clocks(response: str, resolution: str) -> dict[str, Any]:
    return {"slas": [{"name": "response", "state": response}, {"name": "resolution", "state": resolution}]}


def add(
    s: Any,
    agreement: str,
    created: datetime,
    *,
    resolved: datetime | None = None,
    priority: str = "2",
    snapshot: dict[str, Any] | None = None,
    breached: bool = False,
    definition: str = "incident",
    **fields: Any,
) -> str:
    rid = uuid.uuid4().hex[:20]
    s.add(
        RecordRow(
            id=rid,
            number=f"INC-{rid[:10]}",
            definition_key=definition,
            definition_version=1,
            title=f"record {rid[:4]}",
            state="resolved" if resolved else "in_progress",
            state_category="resolved" if resolved else "open",
            priority=priority,
            breached=breached,
            fields=fields,
            snapshot=snapshot or {},
            created_at=created,
            updated_at=created,
            resolved_at=resolved,
        )
    )
    s.add(RecordAgreementRow(record_id=rid, agreement_key=agreement, agreement_version=1))
    return rid


def hand_worked(engine: Engine) -> AgreementRow:
    """November 2026 under one agreement (and one record in October, one in December):

    | record | clocks (response, resolution) | breached | major | satisfaction | reason | resolution |
    | a | met, met | no | no | 5 | — | 2 h |
    | b | met, breached | yes | yes | 2 | "vendor late" | 10 h |
    | c | breached, breached | yes | no | — | — | open |
    | d | met, running | no | no | 4 | — | open |
    """
    with session_scope(engine) as s:
        row = save_agreement(
            s, f"rep-{uuid.uuid4().hex[:8]}", spec(f"svc-{uuid.uuid4().hex}"), actor="x", now=NOW
        )
        key = row.key
        add(s, key, at(11, 2), resolved=at(11, 2, 12), snapshot=clocks("met", "met"), satisfaction="5")
        add(
            s,
            key,
            at(11, 3),
            resolved=at(11, 3, 20),
            snapshot=clocks("met", "breached"),
            breached=True,
            major_incident=True,
            satisfaction="2",
            breach_reason="vendor late",
        )
        add(s, key, at(11, 4), snapshot=clocks("breached", "breached"), breached=True, priority="1")
        add(s, key, at(11, 5), snapshot=clocks("met", "running"), satisfaction="4")
        add(s, key, at(10, 5), snapshot=clocks("breached", "breached"), breached=True, major_incident=True)
        add(s, key, at(12, 1), snapshot=clocks("met", "met"), satisfaction="1")
    return row


def test_sections_match_hand_worked_data(db_engine: Engine) -> None:
    agreement = hand_worked(db_engine)
    start, end = at(11, 1, 0), at(12, 1, 0)
    with session_scope(db_engine) as s:
        per = {
            a.indicator: (a.met, a.breached, a.running, a.percent)
            for a in attainment(s, agreement.key, start, end)
        }
        late = deviations(s, agreement.key, start, end)
        major = major_incidents(s, agreement.key, start, end)
        scores = satisfaction(s, agreement.key, start, end)
        mean = mean_resolution_hours(s, agreement.key, start, end)
        records = volume(s, agreement.key, start, end)
    assert per == {"resolution": (1, 2, 1, 33.33), "response": (3, 1, 0, 75.0)}
    assert late.total == 2
    assert [(i.clocks, i.reason, i.reason_field) for i in late.items] == [
        (["resolution"], "vendor late", "breach_reason"),
        (["response", "resolution"], None, None),
    ]
    assert major.total == 1 and major.items[0].number == late.items[0].number
    assert scores.responses == 3 and scores.distribution == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert scores.mean == 3.67 and scores.satisfied_percent == 66.67
    assert mean == 6.0  # (2 h + 10 h) / 2
    assert records == (4, 2)


def test_a_listed_section_counts_all_and_lists_the_oldest(db_engine: Engine) -> None:
    agreement = hand_worked(db_engine)
    with session_scope(db_engine) as s:
        late = deviations(s, agreement.key, at(10, 1, 0), at(12, 1, 0), limit=1)
    assert late.total == 3 and len(late.items) == 1 and late.items[0].created_at == at(10, 5)
