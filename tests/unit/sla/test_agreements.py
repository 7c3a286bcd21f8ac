"""Agreements (issue 21): validation, versions through change management, selection for a record, and
availability against hand-worked figures — on SQLite, and on PostgreSQL in the `-m db` phase."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from core.db import session_scope
from core.tables import RecordRow
from sla.agreements import agreement_versions, save_agreement, select_agreement
from sla.availability import availability, record_outage
from sla.errors import SlaError

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
TARGETS = {str(p): {"response_minutes": 15 * p, "resolution_minutes": 240 * p} for p in range(1, 5)}


def spec(service: str, *, always: bool = False, **extra: Any) -> dict[str, Any]:
    calendar: dict[str, Any] = {"timezone": "UTC", "always": True} if always else {"timezone": "UTC"}
    data: dict[str, Any] = {
        "title": {"zh": "邮件服务协议", "en": "Mail service agreement"},
        "service": service,
        "valid_from": "2026-01-01",
        "calendar": calendar,
        "targets": {p: dict(t) for p, t in TARGETS.items()},
        "availability_target": 99.0,
        "max_interruptions": 2,
    }
    data.update(extra)
    return data


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_missing_priority_targets_are_refused_with_the_path() -> None:
    from sla.model import parse_spec

    data = spec("x")
    del data["targets"]["3"]
    with pytest.raises(SlaError) as exc:
        parse_spec(data)
    assert exc.value.path == "targets.3"
    assert "优先级 3" in exc.value.zh


def test_a_period_ending_before_it_starts_is_refused() -> None:
    from sla.model import parse_spec

    with pytest.raises(SlaError) as exc:
        parse_spec(spec("x", valid_to="2025-12-31"))
    assert exc.value.path == "valid_to"


def test_overlapping_agreements_for_one_service_are_refused(db_engine: Engine) -> None:
    service = uniq("svc")
    with session_scope(db_engine) as s:
        save_agreement(s, uniq("a"), spec(service, valid_to="2026-12-31"), actor="lead", now=NOW)
    with pytest.raises(SlaError) as exc, session_scope(db_engine) as s:
        save_agreement(s, uniq("b"), spec(service, valid_from="2026-06-01"), actor="lead", now=NOW)
    assert exc.value.kind == "overlap"
    # The following period does not overlap.
    with session_scope(db_engine) as s:
        save_agreement(s, uniq("c"), spec(service, valid_from="2027-01-01"), actor="lead", now=NOW)


def test_a_change_to_an_agreement_needs_an_approved_change_and_keeps_versions(db_engine: Engine) -> None:
    key, service = uniq("k"), uniq("svc")
    with session_scope(db_engine) as s:
        first = save_agreement(s, key, spec(service), actor="lead", now=NOW)
    assert first.version == 1
    with pytest.raises(SlaError) as exc, session_scope(db_engine) as s:
        save_agreement(s, key, spec(service, availability_target=99.9), actor="lead", now=NOW)
    assert exc.value.kind == "change_required"
    change_id = uniq("chg")
    for state in ("cab_review", "scheduled"):
        with session_scope(db_engine) as s:
            row = s.get(RecordRow, change_id) or RecordRow(
                id=change_id,
                number=change_id.upper(),
                definition_key="change",
                definition_version=1,
                state=state,
                state_category="open",
                fields={},
                snapshot={},
                created_at=NOW,
                updated_at=NOW,
            )
            row.state = state
            s.add(row)
        if state == "cab_review":
            with pytest.raises(SlaError) as exc, session_scope(db_engine) as s:
                save_agreement(s, key, spec(service), actor="lead", now=NOW, change_ref=change_id)
            assert exc.value.kind == "change_required"
    with session_scope(db_engine) as s:
        second = save_agreement(
            s, key, spec(service, availability_target=99.9), actor="lead", now=NOW, change_ref=change_id
        )
    with session_scope(db_engine) as s:
        versions = agreement_versions(s, key)
    assert [(v.version, v.status, v.change_ref) for v in versions] == [
        (1, "superseded", None),
        (2, "active", change_id),
    ]
    assert second.spec["availability_target"] == 99.9


def test_selection_prefers_the_service_and_group_then_falls_back_to_the_default(db_engine: Engine) -> None:
    service, group = uniq("svc"), uniq("vip")
    with session_scope(db_engine) as s:
        general = save_agreement(s, uniq("gen"), spec(service, valid_to="2026-12-31"), actor="lead", now=NOW)
        vip = save_agreement(
            s,
            uniq("vip"),
            spec(service, always=True, valid_from="2027-01-01", requester_groups=[group]),
            actor="lead",
            now=NOW,
        )
    with session_scope(db_engine) as s:
        assert select_agreement(s, service, [], date(2026, 6, 1)).key == general.key  # type: ignore[union-attr]
        assert select_agreement(s, service, [group], date(2027, 6, 1)).key == vip.key  # type: ignore[union-attr]
        fallback = select_agreement(s, uniq("nothing"), [], date(2026, 6, 1))
        assert fallback is None or fallback.service == "*"


def test_availability_in_service_hours_matches_hand_worked_figures(db_engine: Engine) -> None:
    hours_service, round_service = uniq("erp"), uniq("mail")
    with session_scope(db_engine) as s:
        hours = save_agreement(s, uniq("bh"), spec(hours_service), actor="lead", now=NOW)
        round_clock = save_agreement(s, uniq("7x24"), spec(round_service, always=True), actor="lead", now=NOW)
        for service in (hours_service, round_service):
            for start, end, planned in (
                ((2, 10), (2, 12), False),  # Monday 10-12: 2 h in service hours
                ((3, 17), (3, 20), False),  # Tuesday 17-20: 1 h in service hours (until 18:00)
                ((7, 10), (7, 11), False),  # Saturday: outside service hours, still an interruption
                ((4, 9), (4, 18), True),  # planned: not unavailability
            ):
                record_outage(
                    s,
                    service=service,
                    planned=planned,
                    actor="bob",
                    now=NOW,
                    start=datetime(2026, 11, start[0], start[1], tzinfo=UTC),
                    end=datetime(2026, 11, end[0], end[1], tzinfo=UTC),
                )
    week = (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC))
    with session_scope(db_engine) as s:
        bh = availability(s, hours, *week)
        rc = availability(s, round_clock, *week)
    # Business hours Mon-Fri 09-18: 45 h committed, 3 h unavailable -> 42/45; MTBF 42 h / 3.
    assert bh.committed.total_seconds() == 45 * 3600 and bh.unavailable.total_seconds() == 3 * 3600
    assert bh.availability_percent == 93.3333 and bh.interruptions == 3 and bh.mtbf_hours == 14.0
    assert not bh.met
    # 7x24: 168 h committed, 6 h unavailable -> 162/168; MTBF 162 h / 3.
    assert rc.unavailable.total_seconds() == 6 * 3600
    assert rc.availability_percent == 96.4286 and rc.mtbf_hours == 54.0


def test_an_outage_ending_before_it_starts_writes_nothing(db_engine: Engine) -> None:
    with pytest.raises(SlaError) as exc, session_scope(db_engine) as s:
        record_outage(
            s,
            service="x",
            planned=False,
            actor="bob",
            now=NOW,
            start=datetime(2026, 11, 2, 12, tzinfo=UTC),
            end=datetime(2026, 11, 2, 10, tzinfo=UTC),
        )
    assert exc.value.path == "end"


def test_an_outage_is_taken_from_an_incident_flagged_as_an_interruption(db_engine: Engine) -> None:
    rid = uuid.uuid4().hex[:20]
    with session_scope(db_engine) as s:
        s.add(
            RecordRow(
                id=rid,
                number=f"INC-{rid[:8]}",
                definition_key="incident",
                definition_version=1,
                state="resolved",
                state_category="resolved",
                fields={},
                snapshot={},
                created_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
                updated_at=NOW,
                resolved_at=datetime(2026, 11, 2, 12, 30, tzinfo=UTC),
            )
        )
    with session_scope(db_engine) as s:
        outage = record_outage(
            s,
            service="x",
            start=None,
            end=None,
            planned=False,
            actor="bob",
            now=NOW,
            incident=f"INC-{rid[:8]}",
        )
    assert (outage.incident, outage.start, outage.end) == (
        rid,
        datetime(2026, 11, 2, 10, tzinfo=UTC),
        datetime(2026, 11, 2, 12, 30, tzinfo=UTC),
    )
