"""Key indicators on small hand-made read models: every formula checked against arithmetic done by hand.

Each data set uses definition keys unique to this run (`incident_<hex>` gets the incident indicators
by its prefix), so the tests never see each other's rows or those of the workflow tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from core.db import session_scope
from core.store import add_definition_version
from core.tables import ApprovalRow, AuditRow, RecordRow
from reports.kpis import compute_kpis, kind_of
from reports.model import Kpi, KpiReport, Period
from sla.agreements import save_agreement
from tests.paths import LIBRARY as SHIPPED
from tests.unit.sla.test_agreements import spec

LIBRARY = SHIPPED
T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class Builder:
    """Writes records, their audit trail and approvals straight into the read model."""

    def __init__(self, engine: Engine, definition: str) -> None:
        self.engine = engine
        self.definition = definition

    def publish(self, library_file: str) -> None:
        """Store the library definition under this key: the indicators read state categories from it."""
        source = (LIBRARY / library_file).read_text(encoding="utf-8")
        key_line = next(line for line in source.splitlines() if line.startswith("key: "))
        source = source.replace(key_line, f"key: {self.definition}", 1)
        with session_scope(self.engine) as session:
            add_definition_version(
                session,
                key=self.definition,
                source=source,
                digest="test",
                title_en="t",
                title_zh="t",
                actor="t",
            )

    def record(
        self,
        *,
        state: str,
        category: str,
        created: datetime,
        final: bool = False,
        initial: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
        slas: list[dict[str, str]] | None = None,
        links: list[dict[str, str]] | None = None,
        events: list[dict[str, Any]] | None = None,
        approvals: list[dict[str, Any]] | None = None,
        resolved_at: datetime | None = None,
    ) -> str:
        rid = uuid.uuid4().hex[:20]
        initial = initial or {}
        audit = [{"at": created, "actor": "bob", "action": "created", "details": {"fields": initial}}]
        audit += events or []
        with session_scope(self.engine) as session:
            session.add(
                RecordRow(
                    id=rid,
                    number=f"T{rid[:12]}",
                    definition_key=self.definition,
                    definition_version=1,
                    state=state,
                    state_category=category,
                    final=final,
                    fields={**initial, **(fields or {})},
                    snapshot={"slas": slas or [], "links": links or []},
                    seq=len(audit),
                    created_at=created,
                    updated_at=created,
                    resolved_at=resolved_at,
                )
            )
            for seq, e in enumerate(audit, start=1):
                session.add(
                    AuditRow(
                        record_id=rid,
                        seq=seq,
                        at=e["at"],
                        actor=e.get("actor", "bob"),
                        action=e.get("action", "transition"),
                        from_state=e.get("from"),
                        to_state=e.get("to"),
                        details=e.get("details", {}),
                    )
                )
            for i, a in enumerate(approvals or []):
                session.add(
                    ApprovalRow(
                        id=f"{rid}.a{i}",
                        record_id=rid,
                        step=a.get("step", "cab"),
                        level=0,
                        level_name="board",
                        state=a["state"],
                        policy="any",
                        needed=1,
                        opened_at=a["opened"],
                        closed_at=a.get("closed"),
                        data={},
                    )
                )
        return rid


def move(at: datetime, frm: str, to: str, trigger: str, actor: str = "bob", **details: Any) -> dict[str, Any]:
    return {"at": at, "actor": actor, "from": frm, "to": to, "details": {"trigger": trigger, **details}}


def report(engine: Engine, definition: str, **kwargs: Any) -> tuple[KpiReport, dict[str, Kpi]]:
    with session_scope(engine) as session:
        result = compute_kpis(session, definition=definition, **kwargs)
    return result, {k.key: k for k in result.indicators}


def key(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# --- incidents ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def incidents(db_engine: Engine) -> str:
    """Four incidents:

    A  L1, desk, network; accepted +10 min, resolved +60, confirmed +120. Monitoring-detected, CI ci-1,
       closure fields complete, both clocks met.
    B  L1, desk, software; accepted +5; SLA escalation to L2 (l2_support) at +30; a person moves it at +50;
       category changed to network at +60; resumed +70, resolved +100, reopened +130, resolved again +200.
       CI ci-1. Resolution clock breached, response met.
    C  desk, no category; cancelled at +15 (never resolved). Response met.
    D  created at L2, no group, still new, major incident, CI ci-2; both clocks running.
    """
    definition = key("incident")
    b = Builder(db_engine, definition)
    b.publish("incident.yaml")
    ta, tb, tc, td = T0, T0 + minutes(60), T0 + minutes(120), T0 + minutes(180)
    b.record(
        state="closed",
        category="closed",
        final=True,
        created=ta,
        initial={"support_level": "L1", "assignment_group": "desk", "category": "network"},
        fields={
            "resolution_code": "solved_permanently",
            "resolution_notes": "fixed",
            "contact_type": "monitoring",
            "configuration_item": "ci-1",
        },
        slas=[{"name": "resolution", "state": "met"}, {"name": "response", "state": "met"}],
        events=[
            move(ta + minutes(10), "new", "in_progress", "accept"),
            move(ta + minutes(60), "in_progress", "resolved", "resolve"),
            move(ta + minutes(120), "resolved", "closed", "confirm", actor="alice"),
        ],
    )
    b.record(
        state="resolved",
        category="resolved",
        created=tb,
        initial={"support_level": "L1", "assignment_group": "desk", "category": "software"},
        fields={
            "support_level": "L2",
            "assignment_group": "l2_support",
            "category": "network",
            "configuration_item": "ci-1",
        },
        slas=[{"name": "resolution", "state": "breached"}, {"name": "response", "state": "met"}],
        events=[
            move(tb + minutes(5), "new", "in_progress", "accept"),
            {
                "at": tb + minutes(30),
                "actor": "system:sla:resolution",
                "action": "escalated",
                "details": {
                    "field": "support_level",
                    "from": "L1",
                    "to": "L2",
                    "assignment_group": "l2_support",
                },
            },
            move(tb + minutes(50), "in_progress", "awaiting_user", "await_user", actor="carl"),
            {
                "at": tb + minutes(60),
                "action": "fields_changed",
                "details": {"fields": {"category": "network"}},
            },
            move(tb + minutes(70), "awaiting_user", "in_progress", "resume", actor="carl"),
            move(tb + minutes(100), "in_progress", "resolved", "resolve", actor="carl"),
            move(tb + minutes(130), "resolved", "in_progress", "reopen", actor="alice"),
            move(tb + minutes(200), "in_progress", "resolved", "resolve", actor="carl"),
        ],
    )
    b.record(
        state="cancelled",
        category="closed",
        final=True,
        created=tc,
        initial={"support_level": "L1", "assignment_group": "desk"},
        fields={"contact_type": "phone"},
        slas=[{"name": "response", "state": "met"}],
        events=[move(tc + minutes(15), "new", "cancelled", "cancel")],
    )
    b.record(
        state="new",
        category="new",
        created=td,
        initial={"support_level": "L2"},
        fields={"major_incident": True, "configuration_item": "ci-2"},
        slas=[{"name": "resolution", "state": "running"}, {"name": "response", "state": "running"}],
    )
    return definition


def test_incident_kind_and_volume(db_engine: Engine, incidents: str) -> None:
    result, k = report(db_engine, incidents)
    assert kind_of(incidents) == "incident" and result.kind == "incident"
    assert result.records == 4 and k["incidents"].value == 4
    for kpi in result.indicators:  # every indicator names its formula and clause
        assert kpi.formula and kpi.formula_zh and kpi.source and kpi.label.zh and kpi.label.en


def test_incident_sla_attainment(db_engine: Engine, incidents: str) -> None:
    _, k = report(db_engine, incidents)
    # finished clocks: A met+met, B breached+met, C met; D's two running clocks wait -> 4 met of 5 = 80 %
    assert (k["sla_attainment"].numerator, k["sla_attainment"].denominator, k["sla_attainment"].value) == (
        4,
        5,
        80.0,
    )
    # per clock: resolution A met, B breached -> 50 %; response A, B, C met -> 100 %
    assert k["sla_attainment"].breakdown == {"resolution": 50.0, "response": 100.0}


def test_incident_first_line_and_assignment(db_engine: Engine, incidents: str) -> None:
    _, k = report(db_engine, incidents)
    # resolved: A and B; only A never left L1 -> 1 of all 4 incidents = 25 %
    assert (k["first_line_resolution_rate"].numerator, k["first_line_resolution_rate"].value) == (1, 25.0)
    # assigned: A, B, C (D has no group); B moved desk -> l2_support -> right first time 2 of 3 = 66.67 %
    assert (k["first_assignment_rate"].numerator, k["first_assignment_rate"].denominator) == (2, 3)
    assert k["first_assignment_rate"].value == 66.67
    # created at L1: A, B, C; D at L2 -> 3 of 4 = 75 %
    assert k["first_line_logging_rate"].value == 75.0


def test_incident_times(db_engine: Engine, incidents: str) -> None:
    _, k = report(db_engine, incidents)
    # B reached L2 at +30; the first action of a person after it is carl's move at +50 -> 20 min
    assert (k["l2_mean_response_time"].value, k["l2_mean_response_time"].denominator) == (20.0, 1)
    # A resolved after 60 min; B's final resolution (after the reopen) at +200 -> (60 + 200) / 2 = 130 min
    assert k["mean_time_to_resolve"].value == 130.0 and k["mean_time_to_resolve"].unit == "minutes"


def test_incident_quality(db_engine: Engine, incidents: str) -> None:
    _, k = report(db_engine, incidents)
    # classified: A, B; B was reclassified software -> network -> 1 of 2 = 50 %
    assert k["classification_accuracy"].value == 50.0
    # resolved and never reopened: A -> 1 of 4 = 25 %
    assert k["first_time_fix_rate"].value == 25.0
    # reopened: B; ever resolved: A, B -> 1 of 2 = 50 %
    assert (k["reopen_rate"].numerator, k["reopen_rate"].denominator) == (1, 2)
    # resolved and detected by monitoring: A -> 1 of 4 = 25 %
    assert k["proactive_resolution_rate"].value == 25.0
    # ci-1 has A and B -> 2 - 1 = 1 repeated; ci-2 only D
    assert k["repeated_incidents"].value == 1
    assert k["major_incidents"].value == 1
    # closed: A (complete), C (no category, code or notes) -> 1 of 2 = 50 %
    assert k["record_accuracy"].value == 50.0


def test_period_filters_by_creation(db_engine: Engine, incidents: str) -> None:
    # [T0+1h, T0+2h) holds only B
    period = Period(start=T0 + minutes(60), end=T0 + minutes(120))
    result, k = report(db_engine, incidents, period=period)
    assert result.records == 1
    assert k["reopen_rate"].value == 100.0 and k["mean_time_to_resolve"].value == 200.0
    # an empty period has no data: None, not 0 %
    _, empty = report(db_engine, incidents, period=Period(start=T0 - minutes(60), end=T0))
    assert empty["sla_attainment"].value is None and empty["incidents"].value == 0


# --- problems -------------------------------------------------------------------------------------------


def test_problem_indicators(db_engine: Engine) -> None:
    definition, incident_key = key("problem"), key("incident")
    b = Builder(db_engine, definition)
    b.publish("problem.yaml")
    h = timedelta(hours=1)
    # P1 resolved after 10 h within its SLA, closed; P2 resolved after 30 h, resolution clock breached;
    # P3 still investigating; P4 resolved after 20 h, SLA met, closed, known error published.
    b.record(
        state="closed",
        category="closed",
        final=True,
        created=T0,
        slas=[{"name": "resolution", "state": "met"}],
        events=[
            move(T0 + h, "new", "investigating", "classify"),
            move(T0 + 10 * h, "investigating", "resolved", "resolve"),
            move(T0 + 12 * h, "resolved", "closed", "close"),
        ],
    )
    b.record(
        state="resolved",
        category="resolved",
        created=T0,
        slas=[{"name": "resolution", "state": "breached"}],
        events=[
            move(T0 + h, "new", "investigating", "classify"),
            move(T0 + 30 * h, "investigating", "resolved", "resolve"),
        ],
    )
    b.record(
        state="investigating",
        category="open",
        created=T0,
        events=[move(T0 + h, "new", "investigating", "classify")],
    )
    b.record(
        state="closed",
        category="closed",
        final=True,
        created=T0,
        fields={"known_error": True},
        slas=[{"name": "resolution", "state": "met"}],
        events=[
            move(T0 + h, "new", "investigating", "classify"),
            move(T0 + 20 * h, "investigating", "resolved", "resolve"),
            move(T0 + 21 * h, "resolved", "closed", "close"),
        ],
    )
    # incidents: one with its problem field, one with a link to a problem record, two with neither
    inc = Builder(db_engine, incident_key)
    inc.record(state="new", category="new", created=T0, fields={"problem": "p1"})
    inc.record(
        state="new",
        category="new",
        created=T0,
        links=[{"id": "p2", "definition": "problem", "role": "child"}],
    )
    inc.record(state="new", category="new", created=T0)
    inc.record(state="new", category="new", created=T0)
    result, k = report(db_engine, definition, incident_definition=incident_key)
    assert result.kind == "problem"
    # closed: P1, P4 -> 2 of 4 = 50 %
    assert (k["closure_rate"].numerator, k["closure_rate"].denominator, k["closure_rate"].value) == (
        2,
        4,
        50.0,
    )
    # resolved P1 10 h, P2 30 h, P4 20 h -> 60 / 3 = 20 h
    assert (k["mean_resolution_time"].value, k["mean_resolution_time"].unit) == (20.0, "hours")
    # 2 of the 4 incidents have no problem -> 50 %
    assert (k["incidents_without_problem"].numerator, k["incidents_without_problem"].value) == (2, 50.0)
    # on time: P1 and P4 (clock met); P2 breached; P3 unresolved -> 2 of 4 = 50 %
    assert k["on_time_resolution_rate"].value == 50.0
    assert k["known_errors"].value == 1


# --- changes --------------------------------------------------------------------------------------------


def test_change_indicators(db_engine: Engine) -> None:
    definition, incident_key = key("change"), key("incident")
    b = Builder(db_engine, definition)
    b.publish("change.yaml")
    h = timedelta(hours=1)
    plan_end = (T0 + 10 * h).isoformat()
    approved = [{"state": "approved", "opened": T0 + h, "closed": T0 + 2 * h}]

    def implemented(
        at: datetime, outcome: str, end: str, *, times: int = 1, typ: str = "normal", appr: Any = approved
    ) -> str:
        events = [
            move(T0 + h, "assessment", "cab_review", "submit"),
            move(T0 + 2 * h, "cab_review", "scheduled", "approve"),
        ]
        for i in range(times):
            events.append(move(at + i * h, "scheduled", "implementing", "start"))
            events.append(move(at + i * h + h / 2, "implementing", "verifying", "implemented"))
        events.append(move(at + times * h, "verifying", "review", "confirm_success"))
        return b.record(
            state=end,
            category="closed",
            final=True,
            created=T0,
            fields={"change_type": typ, "outcome": outcome, "planned_end": plan_end},
            events=events,
            approvals=appr,
        )

    # C1 normal, approved, implemented once at +3 h (left implementing +3.5 h <= plan end +10 h), successful
    implemented(T0 + 3 * h, "successful", "completed")
    # C2 normal, approved, implemented twice (+4 h, +5 h), successful in the end, left implementing +4.5 h
    implemented(T0 + 4 * h, "successful", "completed", times=2)
    # C3 emergency, never approved, implemented at +11 h (late: left +11.5 h > +10 h), failed -> unauthorised
    implemented(T0 + 11 * h, "failed", "failed", typ="emergency", appr=[])
    # C4 standard (pre-approved, no approval task), implemented +3 h, successful
    implemented(T0 + 3 * h, "successful", "completed", typ="standard", appr=[])
    # C5 normal, rejected by the CAB
    b.record(
        state="rejected",
        category="closed",
        final=True,
        created=T0,
        fields={"change_type": "normal"},
        approvals=[{"state": "rejected", "opened": T0 + h, "closed": T0 + 2 * h}],
    )
    # C6 minor, cancelled before review
    b.record(state="cancelled", category="closed", final=True, created=T0, fields={"change_type": "minor"})
    inc = Builder(db_engine, incident_key)
    inc.record(state="new", category="new", created=T0, fields={"caused_by_change": "c3"})
    inc.record(state="new", category="new", created=T0)
    result, k = report(db_engine, definition, incident_definition=incident_key)
    assert result.kind == "change" and result.records == 6
    # implemented: C1-C4; successful C1, C2, C4 -> 3 of 4 = 75 %
    assert (k["success_rate"].numerator, k["success_rate"].denominator, k["success_rate"].value) == (
        3,
        4,
        75.0,
    )
    # successful at the first attempt: C1, C4 (C2 needed two) -> 2 of 6 changes = 33.33 %
    assert k["first_time_success_rate"].value == 33.33
    # by type: normal C1, C2, C5; emergency C3; standard C4; minor C6
    assert k["changes_by_type"].breakdown == {"emergency": 1, "minor": 1, "normal": 3, "standard": 1}
    # C3 implemented with no approval and is not standard -> 1 (C4 is standard, pre-approved)
    assert k["unauthorised_changes"].value == 1
    # rejected: C5 -> 1 of 6 = 16.67 %; cancelled: C6 -> 1 of 6
    assert k["rejected_change_share"].value == 16.67
    assert (k["cancelled_change_share"].value, k["cancelled_changes"].value) == (16.67, 1)
    # 1 incident caused by a change / 6 changes = 16.67 %
    assert (k["change_incident_rate"].numerator, k["change_incident_rate"].value) == (1, 16.67)
    # decided approvals: C1, C2 approved; C5 rejected -> 2 of 3 = 66.67 %
    assert (k["approval_pass_rate"].numerator, k["approval_pass_rate"].denominator) == (2, 3)
    # on time (left implementing by +10 h): C1 (+3.5), C2 (+4.5), C4 (+3.5); C3 (+11.5) late -> 3 of 4
    assert k["on_time_implementation_rate"].value == 75.0
    assert k["emergency_changes"].value == 1


# --- releases -------------------------------------------------------------------------------------------


def test_release_indicators(db_engine: Engine) -> None:
    definition, incident_key = key("release"), key("incident")
    b = Builder(db_engine, definition)
    b.publish("release.yaml")
    h = timedelta(hours=1)
    plan_end = (T0 + 10 * h).isoformat()

    def deployed(at: datetime, end: str, **fields: Any) -> str:
        return b.record(
            state=end,
            category="closed",
            final=True,
            created=T0,
            fields={"planned_end": plan_end, **fields},
            events=[
                move(at, "scheduled", "deploying", "deploy"),
                move(at + h, "deploying", "verifying", "deployed"),
            ],
        )

    # R1 tested, DSL updated, deployed +2 h, completed; change chg-1
    deployed(T0 + 2 * h, "completed", tested=True, dsl_updated=True, change="chg-1")
    # R2 tested, deployed +12 h (after the planned end), rolled back; change chg-2
    deployed(T0 + 12 * h, "rolled_back", tested=True, dsl_updated=False, change="chg-2")
    # R3 emergency, untested (a record that bypassed the sign-off), deployed +3 h, completed, DSL updated
    deployed(T0 + 3 * h, "completed", tested=False, dsl_updated=True, emergency=True)
    # R4 still building: never deployed
    b.record(state="building", category="open", created=T0)
    inc = Builder(db_engine, incident_key)
    inc.record(state="new", category="new", created=T0, fields={"caused_by_change": "chg-2"})
    inc.record(state="new", category="new", created=T0, fields={"caused_by_change": "chg-other"})
    result, k = report(db_engine, definition, incident_definition=incident_key)
    assert result.kind == "release"
    # deployed: R1-R3; completed R1, R3 -> 2 of 3 = 66.67 %
    assert (k["success_rate"].numerator, k["success_rate"].denominator, k["success_rate"].value) == (
        2,
        3,
        66.67,
    )
    assert k["emergency_releases"].value == 1
    # incidents caused by a release's change: the one naming chg-2 -> 1 of 4 releases = 25 %
    assert k["release_incident_rate"].value == 25.0
    # deployment began by +10 h: R1 (+2), R3 (+3); R2 (+12) late -> 2 of 3
    assert k["on_time_rate"].value == 66.67
    # untested deployed: R3 -> 1, 1 of 3 = 33.33 %
    assert (k["untested_releases"].value, k["untested_release_share"].value) == (1, 33.33)
    # DSL updated: R1, R3 -> 2 of 3 = 66.67 %
    assert k["dsl_update_rate"].value == 66.67


# --- handover and service level ------------------------------------------------------------------------


def test_handover_indicators(db_engine: Engine) -> None:
    definition = key("handover")
    b = Builder(db_engine, definition)
    b.publish("handover.yaml")
    docs = [
        "requirements_docs_accepted",
        "functional_specs_accepted",
        "om_technical_docs_accepted",
        "completion_docs_accepted",
    ]
    # H1: every stakeholder, plan approved, 4 of 4 documents, training done, signed off, assets and
    #     archives done, planned 100 days after it was opened; handed over
    b.record(
        state="closed",
        category="closed",
        final=True,
        created=T0,
        fields={
            "delivery_manager": "pm",
            "receiving_manager": "ops",
            "delivery_group": "dev",
            "receiving_group": "ops",
            "stakeholders": ["dba"],
            "handover_plan": "plan",
            **dict.fromkeys(docs, True),
            "operator_training_done": True,
            "assets_verified": True,
            "archives_transferred": True,
            "planned_handover_date": (T0 + timedelta(days=100)).isoformat(),
        },
        approvals=[
            {"step": "plan_approval", "state": "approved", "opened": T0, "closed": T0},
            {"step": "signoff", "state": "approved", "opened": T0, "closed": T0},
        ],
    )
    # H2: no receiving manager, plan not yet approved, 1 of 4 documents, no training, handed over
    #     without the sign-off, planned 30 days after it was opened
    b.record(
        state="handed_over",
        category="resolved",
        created=T0,
        fields={
            "delivery_manager": "pm",
            "handover_plan": "plan",
            "functional_specs_accepted": True,
            "planned_handover_date": (T0 + timedelta(days=30)).isoformat(),
        },
        approvals=[{"step": "plan_approval", "state": "rejected", "opened": T0, "closed": T0}],
    )
    result, k = report(db_engine, definition)
    assert result.kind == "handover"
    assert k["stakeholder_completeness"].value == 50.0  # H1 only, of 2
    assert k["record_completeness"].value == 50.0  # both handed over; only H1 signed off with assets/archives
    assert k["plan_operability"].value == 50.0  # H1's plan approved, H2's rejected
    assert k["knowledge_transfer_completion"].value == 50.0  # H1: all documents and training
    # documents: H1 4, H2 1 -> 5 of 2 × 4 = 62.5 %
    assert (k["deliverable_coverage"].numerator, k["deliverable_coverage"].denominator) == (5, 8)
    assert k["deliverable_coverage"].value == 62.5
    assert k["advance_notice_rate"].value == 50.0  # H1: 100 days >= 90; H2: 30 days


def test_data_access_indicators(db_engine: Engine) -> None:
    definition = key("data_access")
    b = Builder(db_engine, definition)
    b.publish("data_access.yaml")
    full = {
        "data_set": "crm",
        "classification": "confidential",
        "access_type": "read",
        "purpose": "audit",
        "granted_at": T0.isoformat(),
        "ended_at": T0.isoformat(),
        "end_reason": "finished",
    }
    ok = [{"step": "access_approval", "state": "approved", "opened": T0, "closed": T0}]
    b.record(state="closed", category="closed", final=True, created=T0, fields=full, approvals=ok)  # complete
    b.record(
        state="ended", category="resolved", created=T0, fields={**full, "purpose": ""}, approvals=ok
    )  # no purpose
    b.record(state="granted", category="open", created=T0, fields=full)  # access with no approval
    b.record(state="rejected", category="closed", final=True, created=T0)  # never accessed
    _, k = report(db_engine, definition)
    # finished (ended/closed): 2; complete: the first -> 50 %
    assert (k["access_record_completeness"].numerator, k["access_record_completeness"].denominator) == (1, 2)
    assert k["access_without_approval"].value == 1


def test_service_level_attainment_across_processes(db_engine: Engine) -> None:
    # a period of its own: only these records are in it
    start = datetime(2031, 3, 1, tzinfo=UTC)
    one, two = Builder(db_engine, key("incident")), Builder(db_engine, key("change"))
    one.record(
        state="closed",
        category="closed",
        final=True,
        created=start,
        slas=[{"name": "r", "state": "met", "target": "PT4H"}],
    )
    one.record(
        state="closed",
        category="closed",
        final=True,
        created=start,
        slas=[{"name": "r", "state": "breached", "target": "PT4H"}],
    )
    two.record(state="completed", category="closed", final=True, created=start)  # no SLA applies
    covered, uncovered = f"svc-{uuid.uuid4().hex[:8]}", f"svc-{uuid.uuid4().hex[:8]}"
    with session_scope(db_engine) as s:
        save_agreement(s, f"k-{uuid.uuid4().hex[:8]}", spec(covered), actor="x", now=start)
    for service in (covered, uncovered, uncovered):  # two records on a service no agreement covers
        one.record(state="new", category="new", created=start, fields={"service": service})
    _, k = report(db_engine, key("service_level"), period=Period(start=start, end=start + timedelta(days=1)))
    # 1 met of 2 finished clocks = 50 %; one service (not a record) is delivered outside any agreement
    assert (k["sla_attainment"].value, k["sla_attainment"].breakdown) == (50.0, {one.definition: 50.0})
    assert k["services_outside_sla"].value == 1


def test_generic_indicators_for_other_processes(db_engine: Engine) -> None:
    definition = key("routine")
    b = Builder(db_engine, definition)
    b.record(
        state="done",
        category="closed",
        final=True,
        created=T0,
        slas=[{"name": "due", "state": "met"}],
        resolved_at=T0 + timedelta(hours=3),
    )
    b.record(state="open", category="open", created=T0)
    result, k = report(db_engine, definition)
    assert result.kind == "generic"
    assert k["records"].breakdown == {"closed": 1, "open": 1}
    assert k["sla_attainment"].value == 100.0
    assert k["mean_time_to_resolve"].value == 3.0  # hours, from the read model's resolved_at


# --- HTTP and CLI -----------------------------------------------------------------------------------------


def test_kpi_endpoint(db_engine: Engine, incidents: str) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import issue_token
    from core.settings import Settings

    with session_scope(db_engine) as session:
        bob, alice = (issue_token(session, username=u, name="kpi test") for u in ("bob", "alice"))
    http = TestClient(create_app(Settings(), engine=db_engine))  # no lifespan: Temporal is not needed
    url = "/api/v1/reports/kpis"
    as_bob = {"Authorization": f"Bearer {bob}"}

    response = http.get(
        url, params={"definition": incidents, "from": "2030-01-07", "to": "2030-01-08"}, headers=as_bob
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "incident" and body["records"] == 4
    assert body["period"] == {"from": "2030-01-07T00:00:00Z", "to": "2030-01-08T00:00:00Z"}
    sla = next(k for k in body["indicators"] if k["key"] == "sla_attainment")
    assert (sla["value"], sla["numerator"], sla["denominator"], sla["unit"]) == (80.0, 4, 5, "percent")
    assert "B.1" in sla["source"] and sla["formula"]
    assert sla["formula_zh"].startswith("达成的 SLA 计时数")  # both languages in the answer

    assert http.get(url, params={"definition": incidents}).status_code == 401
    denied = http.get(url, params={"definition": incidents}, headers={"Authorization": f"Bearer {alice}"})
    assert denied.status_code == 403  # a requester does not read management indicators
    assert http.get(url, params={"definition": key("nothing")}, headers=as_bob).status_code == 404
    bad = http.get(url, params={"definition": incidents, "from": "last week"}, headers=as_bob)
    assert bad.status_code == 422 and "last week" in bad.json()["detail"]


def test_cli_report(db_engine: Engine, incidents: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import json

    from cli import main
    from core.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", str(db_engine.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    try:
        assert main(["report", "kpis", "--definition", incidents, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert {k["key"]: k["value"] for k in data["indicators"]}["first_assignment_rate"] == 66.67
        assert main(["report", "kpis", "--definition", incidents, "--from", "2030-01-07T10:00"]) == 0
        text = capsys.readouterr().out
        assert "3 records" in text and "一线支持解决率" in text  # B, C, D were created from 10:00
    finally:
        get_settings.cache_clear()


def test_service_reports_submitted_on_time(db_engine: Engine) -> None:
    start = datetime(2025, 4, 1, tzinfo=UTC)
    b = Builder(db_engine, key("service_report"))
    due = "2025-04-05T00:00:00+00:00"
    b.record(
        state="archived",
        category="closed",
        final=True,
        created=start,
        fields={"due_date": due, "submitted_at": "2025-04-04T10:00:00+00:00"},
    )  # on time
    b.record(
        state="submitted",
        category="resolved",
        created=start,
        fields={"due_date": due, "submitted_at": "2025-04-06T10:00:00+00:00"},
    )  # late
    b.record(state="compiling", category="open", created=start, fields={"due_date": due})  # overdue
    b.record(state="cancelled", category="closed", final=True, created=start, fields={"due_date": due})
    b.record(state="planned", category="new", created=start, fields={"due_date": "2099-01-01T00:00:00+00:00"})
    _, k = report(db_engine, b.definition, period=Period(start=start, end=start + timedelta(days=1)))
    assert k["report_on_time_rate"].value == 33.33  # 1 of the 3 judged
    assert k["reports_submitted"].value == 2
