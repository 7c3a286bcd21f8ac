"""The shipped ITIL library: every definition is valid, compiles, draws, round-trips, and behaves.

The behaviour tests drive the pure ProcessEngine directly (no Temporal): the engine is the same code
the workflow runs, and the workflow's only extra job — asking the directory who may approve, starting
linked records — is simulated here by `Sim`, which answers those requests from a small directory.
Durations are the library's real ones (hours, days); the clock is just a `datetime` we move.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from definitions.compiler import build_machine
from definitions.diagram import to_mermaid
from definitions.loader import from_data, load_file, pin
from definitions.model import Definition
from definitions.shared_calendars import with_builtin_calendars
from tests.paths import LIBRARY as SHIPPED
from workflows.contracts import (
    Actor,
    DecideApprovalInput,
    FireTransitionInput,
    RecordSnapshot,
    StartProcessInput,
    UpdateFieldsInput,
)
from workflows.engine import Outcome, ProcessEngine, Refusal

LIBRARY = SHIPPED
FILES = sorted(LIBRARY.glob("*.yaml"))
EXPECTED = {
    "incident": "INC",
    "problem": "PRB",
    "change": "CHG",
    "release": "REL",
    "handover": "HOV",
    "service_level": "SLR",
    "data_access": "DAR",
    "standard_change": "STD",
    "config_audit": "CFA",
    "service_report": "SRP",
    # issue 20
    "routine_operation": "RTN",
    "continuity_drill": "DRL",
    "security_incident": "SEC",
    "capacity_review": "CAP",
    "supplier_review": "SUP",
    "audit_finding": "AUD",
    "improvement": "IMP",
}

# A small directory: group -> members, role -> holders.
GROUPS: dict[str, list[str]] = {
    "service_desk": ["sam"],
    "l2_support": ["lee"],
    "l3_support": ["lin"],
    "cab": ["carol", "dave", "erin", "ivan"],
    "ecab": ["eve", "carol"],
    "managers": ["boss"],
    "release_managers": ["rita"],
    "delivery_pm": ["dan"],
    "operations_receiving": ["olga"],
    "security": ["sec"],
    "service_level_managers": ["sly"],
    "problem_managers": ["pam"],
    "qa": ["quinn", "bob"],
    "release_team": ["bob", "rob"],
}
ROLES: dict[str, list[str]] = {}

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in Shanghai: the desk opens


def actor(name: str, *roles: str) -> Actor:
    groups = [g for g, members in GROUPS.items() if name in members]
    return Actor(username=name, roles=list(roles), groups=groups)


ALICE = actor("alice", "requester")
SAM = actor("sam", "agent", "service_desk")
LEE = actor("lee", "agent")


@cache
def load(name: str) -> Definition:
    """A library definition, parsed and validated once per test session (the engine never mutates it)."""
    result = load_file(LIBRARY / f"{name}.yaml")
    assert result.ok, [str(i) for i in result.issues]
    assert result.definition is not None
    return with_builtin_calendars(result.definition)  # what a record runs on with no admin version


class Sim:
    """One record on the pure engine, with the workflow's side requests answered in-process."""

    def __init__(self, name: str, by: Actor, now: datetime = T0, title: str = "Test", **fields: Any) -> None:
        definition = load(name)
        self.d = definition
        self.now = now
        self.notes: list[tuple[str, list[str]]] = []
        self.created: list[tuple[str, dict[str, Any], str | None]] = []
        inp = StartProcessInput(
            record_id=f"{name}-1",
            number=f"{definition.number_prefix}0000001",
            definition=pin(definition, 1),
            actor=by,
            title=title,
            fields=fields,
        )
        self.engine, out = ProcessEngine.create(inp, now)
        self.absorb(out)

    # -- the workflow's half ----------------------------------------------------------------------
    def absorb(self, out: Outcome) -> Outcome:
        for note in out.notifications:
            self.notes.append((note.template, [f"{r.kind}:{r.name}" for r in note.recipients]))
        while out.resolves or out.creates:
            if out.resolves:
                req = out.resolves.pop(0)
                users = list(req.users)
                for group in req.groups:
                    users += GROUPS.get(group, [])
                for role in req.roles:
                    users += ROLES.get(role, [])
                more = self.engine.approvers_resolved(req.task_id, list(dict.fromkeys(users)), self.now)
            else:
                create = out.creates.pop(0)
                self.created.append((create.definition, create.fields, create.back_link_field))
                more = self.engine.linked_created(create, f"{create.definition}-99", "X0000099", self.now)
            for note in more.notifications:
                self.notes.append((note.template, [f"{r.kind}:{r.name}" for r in note.recipients]))
            out.resolves += more.resolves
            out.creates += more.creates
            out.events += more.events
        return out

    # -- commands ---------------------------------------------------------------------------------
    def fire(self, by: Actor, trigger: str, comment: str | None = None, **fields: Any) -> RecordSnapshot:
        out = self.engine.fire(
            FireTransitionInput(actor=by, trigger=trigger, fields=fields, comment=comment), self.now
        )
        self.absorb(out)
        return self.snap

    def refused(self, by: Actor, trigger: str, comment: str | None = None, **fields: Any) -> Refusal:
        with pytest.raises(Refusal) as info:
            self.fire(by, trigger, comment, **fields)
        return info.value

    def update(self, by: Actor, **fields: Any) -> RecordSnapshot:
        self.absorb(self.engine.update_fields(UpdateFieldsInput(actor=by, fields=fields), self.now))
        return self.snap

    def pending(self, step: str) -> str:
        tasks = [t for t in self.engine.record.approvals if t.step == step and t.state == "pending"]
        assert tasks, (
            f"no pending approval {step}: {[(t.step, t.state) for t in self.engine.record.approvals]}"
        )
        return tasks[-1].id

    def decide(
        self, by: Actor, step: str, decision: Literal["approve", "reject"] = "approve"
    ) -> RecordSnapshot:
        task = self.pending(step)
        out = self.engine.decide(DecideApprovalInput(actor=by, approval_id=task, decision=decision), self.now)
        self.absorb(out)
        return self.snap

    def advance(self, delta: timedelta) -> Outcome:
        self.now += delta
        return self.absorb(self.engine.on_timers(self.now))

    @property
    def snap(self) -> RecordSnapshot:
        return self.engine.snapshot(None, self.now)

    @property
    def state(self) -> str:
        return self.engine.record.state

    @property
    def fields(self) -> dict[str, Any]:
        return self.engine.record.fields

    def sla(self, name: str) -> Any:
        return next(v for v in self.snap.slas if v.name == name)

    def sent(self, template: str) -> list[list[str]]:
        return [to for name, to in self.notes if name == template]


# ------------------------------------------------------------------------------------------------
# Every library file


def test_library_is_complete() -> None:
    keys = {load(p.stem).key: load(p.stem).number_prefix for p in FILES}
    assert keys == EXPECTED
    assert all(p.stem == load(p.stem).key for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_validates_with_zero_issues(path: Path) -> None:
    result = load_file(path)
    assert result.definition is not None, [str(i) for i in result.issues]
    assert [str(i) for i in result.issues] == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_compiles_to_a_state_machine(path: Path) -> None:
    d = load(path.stem)
    machine = build_machine(d)
    assert set(machine.states) == {s.name for s in d.states}
    assert {t.trigger for t in d.transitions} <= set(machine.events)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_diagram_shows_every_state(path: Path) -> None:
    d = load(path.stem)
    for lang in ("en", "zh"):
        text = to_mermaid(d, lang=lang)
        assert text.startswith("stateDiagram-v2")
        for s in d.states:
            assert f" as {s.name}\n" in text
            assert s.label is not None and s.label.get(lang) in text


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_json_round_trip(path: Path) -> None:
    d = load(path.stem)
    data = json.loads(json.dumps(d.model_dump(mode="json", by_alias=True, exclude_none=True)))
    again = from_data(data)
    assert again.ok, [str(i) for i in again.issues]
    assert again.definition == d


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bilingual_and_permissions(path: Path) -> None:
    """Everything a person reads has zh and en; every transition a person fires says who may."""
    d = load(path.stem)
    texts: list[tuple[str, Any]] = [("title", d.title)]
    texts += [(f"state {s.name}", s.label) for s in d.states]
    texts += [(f"field {f.name}", f.label) for f in d.fields]
    texts += [(f"transition {t.trigger}", t.label) for t in d.transitions]
    texts += [(f"approval {a.name}", a.label) for a in d.approvals]
    texts += [(f"level {a.name}.{lv.name}", lv.label) for a in d.approvals for lv in a.levels]
    texts += [(f"sla {s.name}", s.label) for s in d.slas]
    texts += [(f"role {name}", text) for name, text in d.roles.items()]
    for where, text in texts:
        assert text is not None, f"{where} has no label"
        assert text.zh != text.en, f"{where}: zh and en are the same text"
    engine_only = {a.on_approved for a in d.approvals} | {a.on_rejected for a in d.approvals}
    engine_only |= {a.expiry_trigger for a in d.approvals if a.expiry_trigger}
    for t in d.transitions:
        if t.after is None and t.trigger not in engine_only:
            assert t.allowed is not None, f"{t.trigger} is fired by people but has no 'allowed'"
        if t.guard is not None and t.allowed is not None:
            assert t.guard_message is not None, f"{t.trigger} has a guard but no guard_message"


# ------------------------------------------------------------------------------------------------
# Incident


def incident(impact: str = "2", urgency: str = "2", **fields: Any) -> Sim:
    return Sim("incident", ALICE, title="Mail is down", impact=impact, urgency=urgency, **fields)


# The matrix measured on the ServiceNow log (impact, urgency -> priority); (1,3) mirrors (3,1).
MATRIX = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("3", "1"): "3",
    ("1", "3"): "3",
    ("2", "3"): "4",
    ("3", "2"): "4",
    ("3", "3"): "4",
}


@pytest.mark.parametrize(("impact", "urgency"), sorted(MATRIX))
def test_incident_priority_matrix(impact: str, urgency: str) -> None:
    sim = incident(impact, urgency)
    assert sim.snap.priority == MATRIX[(impact, urgency)]
    assert sim.sla("resolution").state == "running"


def test_incident_priority_follows_reclassification_and_cannot_be_set_by_hand() -> None:
    sim = incident("3", "3")
    assert sim.snap.priority == "4"
    sim.update(SAM, impact="1", urgency="1")
    assert sim.snap.priority == "1"
    assert sim.sla("resolution").target == "PT4H"  # P1: 4 hours, 7x24
    with pytest.raises(Refusal) as info:
        sim.update(SAM, priority="4")
    assert info.value.kind == "InvalidFields"


def test_incident_happy_path_with_requester_confirmation() -> None:
    sim = incident()
    assert sim.state == "new" and sim.fields["assignment_group"] == "service_desk"
    assert sim.fields["support_level"] == "L1"
    sim.now += timedelta(minutes=20)
    sim.fire(SAM, "accept", assignee="sam")
    assert sim.state == "in_progress"
    assert sim.sla("response").state == "met"
    assert sim.sent("accepted") == [["user:alice"]]
    refusal = sim.refused(SAM, "resolve", category="software")
    assert (
        refusal.kind == "MissingFields"
        and {"path": "fields.resolution_code", "message": "required"} in refusal.errors
    )
    sim.fire(
        SAM,
        "resolve",
        category="software",
        resolution_code="solved_permanently",
        resolution_notes="Restarted the mail relay",
    )
    assert sim.state == "resolved" and sim.fields["resolved_by"] == "sam"
    assert sim.sla("resolution").state == "met"
    assert sim.refused(SAM, "confirm").kind == "NotAllowed"  # only the requester accepts the result
    sim.fire(ALICE, "confirm", satisfaction="5")
    assert sim.state == "closed" and sim.snap.final
    assert sim.fields["closure"] == "confirmed"


def test_incident_resolves_directly_from_new_and_from_waiting() -> None:
    sim = incident()
    sim.fire(
        SAM, "resolve", category="access", resolution_code="user_error", resolution_notes="Reset password"
    )
    assert sim.state == "resolved"
    other = incident()
    other.fire(SAM, "await_user", comment="Which mailbox?")
    assert other.state == "awaiting_user" and other.sla("resolution").state == "paused"
    assert other.sent("info_needed") == [["user:alice"]]
    other.fire(
        SAM, "resolve", category="software", resolution_code="solved_permanently", resolution_notes="ok"
    )
    assert other.state == "resolved"


def test_incident_waiting_pauses_the_resolution_clock() -> None:
    sim = incident("1", "1")  # P1: 4 h, 7x24
    sim.fire(SAM, "accept")
    sim.now += timedelta(hours=1)
    sim.fire(SAM, "await_vendor")
    sim.advance(timedelta(hours=10))  # far beyond the target, but paused
    assert sim.sla("resolution").state == "paused"
    assert sim.sla("resolution").elapsed == "PT1H"
    sim.fire(ALICE, "resume")
    assert sim.sla("resolution").state == "running"


def test_incident_sla_warning_then_breach_escalation() -> None:
    sim = incident("1", "1")  # P1: resolution 4 h counted 7x24
    sim.fire(SAM, "accept", assignee="sam")
    sim.advance(timedelta(hours=3))  # 75 %
    assert sim.sent("sla_warning") == [["user:sam", "group_lead:service_desk"]]
    assert sim.sent("sla_may_miss") == [["user:alice"]]  # the requester is warned in advance
    assert sim.fields["support_level"] == "L1"
    sim.advance(timedelta(hours=1))  # 100 %: breach, escalate to L2
    assert sim.sla("resolution").state == "breached"
    assert sim.fields["support_level"] == "L2" and sim.fields["assignment_group"] == "l2_support"
    assert "assignee" not in sim.fields
    assert ["group:l2_support", "group_lead:l2_support"] in sim.sent("escalated")
    sim.advance(timedelta(hours=2))  # 150 %: escalate again, tell management
    assert sim.fields["support_level"] == "L3" and sim.fields["assignment_group"] == "l3_support"
    assert ["role:service_desk_manager"] in sim.sent("sla_breach")


def test_incident_business_hours_for_lower_priorities() -> None:
    sim = incident("2", "2")  # P3: resolution 24 working hours = 3 working days
    assert sim.sla("resolution").target == "P1D"
    # Monday 09:00 + 24 working hours (8 h a day) = Wednesday 18:00 Shanghai = 10:00 UTC.
    assert sim.sla("resolution").due_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    sim.advance(timedelta(days=1, hours=9))  # Tuesday 18:00: 16 working hours < 75 %
    assert sim.sent("sla_warning") == []


def test_incident_auto_close_after_five_days() -> None:
    sim = incident()
    sim.fire(SAM, "accept")
    sim.fire(SAM, "resolve", category="network", resolution_code="solved_permanently", resolution_notes="ok")
    sim.advance(timedelta(days=4, hours=23))  # still inside the 5-day reopen window
    assert sim.state == "resolved"
    sim.advance(timedelta(hours=1))  # 5 x 24 h after resolution (the window measured on ServiceNow data)
    assert sim.state == "closed"
    assert sim.fields["closure"] == "auto_closed"
    assert sim.refused(ALICE, "reopen", comment="still broken").kind == "WrongState"


def test_incident_reopen_by_requester_resumes_the_clock() -> None:
    sim = incident("1", "1")
    sim.fire(SAM, "accept", assignee="sam")
    sim.now += timedelta(hours=1)
    sim.fire(SAM, "resolve", category="software", resolution_code="solved_workaround", resolution_notes="x")
    sim.now += timedelta(hours=5)  # stopped: no breach while resolved
    assert sim.refused(SAM, "reopen").kind == "MissingFields"  # the reason is required
    assert sim.refused(LEE, "reopen", comment="no").kind == "NotAllowed"
    sim.fire(ALICE, "reopen", comment="Still cannot send mail")
    assert sim.state == "in_progress"
    assert sim.sla("resolution").state == "running" and sim.sla("resolution").elapsed == "PT1H"
    assert "resolved_at" not in sim.fields
    assert ["user:sam", "group:service_desk"] in sim.sent("reopened")


def test_incident_closed_is_final() -> None:
    sim = incident()
    sim.fire(SAM, "resolve", category="software", resolution_code="solved_permanently", resolution_notes="ok")
    sim.fire(ALICE, "confirm")
    for trigger in ("reopen", "accept", "resolve", "await_user"):
        refusal = sim.refused(ALICE, trigger, comment="again")
        assert refusal.kind == "WrongState", trigger
    with pytest.raises(Refusal) as info:
        sim.update(SAM, title="changed")
    assert info.value.kind == "WrongState"


def test_incident_cancel_from_new() -> None:
    sim = incident()
    assert sim.refused(ALICE, "cancel", comment="dup").kind == "MissingFields"
    sim.fire(ALICE, "cancel", comment="reported twice", cancel_reason="withdrawn")
    assert sim.state == "cancelled" and sim.snap.final


def test_incident_major_incident_path() -> None:
    sim = incident("1", "1")
    sim.fire(SAM, "accept", assignee="sam")
    refusal = sim.refused(SAM, "declare_major", comment="whole site down")
    assert (
        refusal.kind == "MissingFields"
        and {"path": "fields.major_incident_manager", "message": "required"} in refusal.errors
    )
    sim.fire(SAM, "declare_major", comment="whole site down", major_incident_manager="mim")
    assert sim.fields["major_incident"] is True and "major_declared_at" in sim.fields
    assert sim.sent("major_declared") == [
        [
            "user:mim",
            "role:major_incident_manager",
            "group:major_incident_team",
            "group:service_desk",
            "user:alice",
        ]
    ]
    assert (
        sim.refused(SAM, "declare_major", comment="again", major_incident_manager="mim").kind == "GuardFailed"
    )
    mim = actor("mim")
    sim.fire(mim, "major_update", comment="Failover in progress")
    assert len(sim.sent("major_update")) == 1
    sim.fire(mim, "raise_emergency_change")
    assert sim.created[-1][0] == "change" and sim.created[-1][1]["change_type"] == "emergency"
    assert sim.created[-1][2] == "related_incident"
    assert sim.fields["emergency_change"] == "change-99"
    assert sim.refused(mim, "raise_emergency_change").kind == "GuardFailed"


def test_incident_raises_a_linked_problem_once() -> None:
    sim = incident(category="database")
    sim.fire(SAM, "accept")
    sim.fire(SAM, "raise_problem")
    definition, fields, back = sim.created[-1]
    assert definition == "problem" and fields["requester"] == "sam" and fields["category"] == "database"
    assert back == "origin_incident" and sim.fields["problem"] == "problem-99"
    assert sim.refused(SAM, "raise_problem").kind == "GuardFailed"


def test_incident_manual_escalation() -> None:
    sim = incident()
    sim.fire(SAM, "accept", assignee="sam")
    sim.fire(SAM, "escalate", comment="needs the DBA team")
    assert sim.fields["support_level"] == "L2" and sim.fields["assignment_group"] == "l2_support"
    assert sim.state == "in_progress"


# ------------------------------------------------------------------------------------------------
# Problem

PAM = actor("pam", "agent", "problem_manager")


def test_problem_happy_path_through_known_error_and_change() -> None:
    sim = Sim(
        "problem",
        SAM,
        title="Mail relay crashes weekly",
        origin_incident="incident-1",
        impact="2",
        urgency="1",
        category="software",
    )
    assert sim.state == "new" and sim.snap.priority == "2"
    assert sim.fields["assignment_group"] == "problem_managers"
    sim.fire(PAM, "classify", assignee="pam")
    assert sim.state == "investigating"
    sim.fire(PAM, "record_workaround", workaround="Restart the relay nightly")
    assert ["group:service_desk", "user:sam"] in sim.sent("workaround_available")
    refusal = sim.refused(PAM, "publish_known_error", root_cause="memory leak")
    assert (
        refusal.kind == "MissingFields"
        and {"path": "fields.kb_article", "message": "required"} in refusal.errors
    )
    sim.fire(PAM, "publish_known_error", root_cause="Memory leak in relay 2.1", kb_article="KB0042")
    assert sim.state == "known_error" and sim.fields["known_error"] is True
    assert sim.sent("known_error_published") == [["group:service_desk", "user:sam"]]
    sim.fire(PAM, "raise_change")
    assert sim.state == "awaiting_change"
    definition, fields, back = sim.created[-1]
    assert definition == "change" and fields["change_type"] == "normal" and back == "related_problem"
    assert fields["reason"] == "Memory leak in relay 2.1" and sim.fields["change"] == "change-99"
    sim.fire(PAM, "resolve", resolution_code="fixed_by_change", resolution_notes="Relay 2.2 deployed")
    assert sim.state == "resolved" and sim.sla("resolution").state == "met"
    assert sim.refused(SAM, "close", closure_notes="ok").kind == "NotAllowed"
    sim.fire(PAM, "close", closure_notes="No recurrence in 30 days")
    assert sim.state == "closed"


def test_problem_classification_requires_impact_and_urgency() -> None:
    sim = Sim("problem", SAM, title="Found by trend analysis", source="trend_analysis")
    assert sim.sla("resolution").state == "pending"  # no priority yet
    refusal = sim.refused(PAM, "classify", assignee="pam")
    assert (
        refusal.kind == "MissingFields" and {"path": "fields.impact", "message": "required"} in refusal.errors
    )
    sim.fire(PAM, "classify", assignee="pam", impact="3", urgency="3", category="network")
    assert sim.snap.priority == "4" and sim.sla("resolution").state == "running"


# ------------------------------------------------------------------------------------------------
# Change

CAROL, DAVE, ERIN = (actor(n, "approver") for n in ("carol", "dave", "erin"))
BOSS = actor("boss", "approver")
EVE = actor("eve", "approver")
CM = actor("cm", "agent", "change_manager")
BOB = actor("bob", "agent")

PLANS: dict[str, Any] = {
    "risk": "medium",
    "risk_assessment": "Mail unavailable for 10 minutes",
    "business_impact": "None outside the window",
    "affected_cis": ["mail-relay-01", "mail-relay-02"],
    "implementation_plan": "Upgrade relay to 2.2",
    "backout_plan": "Reinstall 2.1 from the DSL",
    "test_plan": "Send test mails",
    "implementer": "bob",
    "planned_start": "2026-03-07T14:00:00+00:00",
    "planned_end": "2026-03-07T16:00:00+00:00",
}


def change(change_type: str = "normal", by: Actor = ALICE) -> Sim:
    sim = Sim("change", by, title="Upgrade mail relay", change_type=change_type)
    if change_type != "emergency":
        sim.fire(CM, "assess", assignee="cm")
    return sim


def test_change_normal_happy_path_with_cab_quorum() -> None:
    sim = change()
    sim.fire(CM, "submit", **PLANS)
    assert sim.state == "cab_review"
    task = sim.engine.record.approvals[-1]
    assert task.needed == 2 and task.eligible == ["carol", "dave", "erin", "ivan"]
    sim.decide(CAROL, "cab_approval")
    assert sim.state == "cab_review"  # one of two
    sim.decide(DAVE, "cab_approval")
    assert sim.state == "scheduled"
    assert ["user:alice", "user:bob", "group:service_desk"] in sim.sent("scheduled")
    assert sim.refused(CM, "start").kind == "NotAllowed"  # only the implementer
    sim.fire(BOB, "start")
    sim.fire(BOB, "implemented", implementation_notes="Upgraded both relays")
    sim.fire(CM, "confirm_success")
    assert sim.state == "review" and sim.fields["outcome"] == "successful"
    refusal = sim.refused(CM, "close", review_notes="Went fine")
    assert refusal.kind == "GuardFailed" and "CMDB" in refusal.message
    sim.update(CM, cmdb_updated=True)
    sim.fire(CM, "close", review_notes="Went fine")
    assert sim.state == "completed"


def test_change_without_backout_plan_is_refused() -> None:
    sim = change()
    plans = {k: v for k, v in PLANS.items() if k != "backout_plan"}
    refusal = sim.refused(CM, "submit", **plans)
    assert refusal.kind == "MissingFields"
    assert {"path": "fields.backout_plan", "message": "required"} in refusal.errors
    assert sim.state == "assessment"


def test_change_window_must_end_after_it_starts() -> None:
    sim = change()
    refusal = sim.refused(CM, "submit", **{**PLANS, "planned_end": "2026-03-07T13:00:00+00:00"})
    assert refusal.kind == "GuardFailed" and "planned end must be after the planned start" in refusal.message


def test_change_rejected_by_cab() -> None:
    sim = change()
    sim.fire(CM, "submit", **PLANS)
    sim.decide(CAROL, "cab_approval", "reject")
    sim.decide(DAVE, "cab_approval", "reject")
    sim.decide(ERIN, "cab_approval", "reject")  # 1 approval still possible < 2 needed
    assert sim.state == "rejected" and sim.snap.final
    assert sim.sent("rejected") == [["user:alice", "user:cm"]]


def test_change_separation_of_duties_excludes_requester_and_implementer() -> None:
    sim = change(by=actor("carol", "requester", "approver"))
    sim.fire(CM, "submit", **{**PLANS, "implementer": "dave"})
    task = sim.engine.record.approvals[-1]
    assert task.eligible == ["erin", "ivan"]
    assert task.excluded == {"carol": "requester", "dave": "field:implementer"}
    for who in (CAROL, DAVE):
        with pytest.raises(Refusal) as info:
            sim.decide(who, "cab_approval")
        assert info.value.kind == "SeparationOfDuties"


def test_change_standard_is_pre_approved() -> None:
    sim = change("standard")
    sim.fire(CM, "submit", standard_template="STD-PATCH-OS", **PLANS)
    assert sim.state == "scheduled" and sim.engine.record.approvals == []


def test_change_major_needs_cab_then_management() -> None:
    sim = change("major")
    # 银监办发〔2009〕437号 第三十一条: reported 10 working days ahead; the refusal says by how much.
    refusal = sim.refused(CM, "submit", **PLANS)
    assert "2026-03-16 09:00" in refusal.message and "working day(s) too early" in refusal.message
    sim.fire(
        CM,
        "submit",
        **{**PLANS, "planned_start": "2026-03-16T01:00:00+00:00", "planned_end": "2026-03-16T03:00:00+00:00"},
    )
    sim.decide(CAROL, "major_approval")
    sim.decide(ERIN, "major_approval")
    assert sim.state == "major_review"
    assert sim.engine.record.approvals[-1].level_name == "management"
    sim.decide(BOSS, "major_approval")
    assert sim.state == "scheduled"


def test_change_emergency_by_ecab_then_reviewed_after_back_out() -> None:
    sim = change("emergency")
    minimal = {
        k: PLANS[k]
        for k in (
            "risk",
            "affected_cis",
            "implementation_plan",
            "backout_plan",
            "implementer",
            "planned_start",
            "planned_end",
        )
    }
    sim.fire(CM, "submit", **minimal)  # straight from new: emergency skips the assessment state
    assert sim.state == "ecab_review"
    sim.decide(EVE, "ecab_approval")
    assert sim.state == "scheduled"
    sim.fire(BOB, "start")
    sim.fire(BOB, "back_out", comment="Relay did not come up")
    assert sim.state == "review" and sim.fields["outcome"] == "backed_out"  # review is mandatory
    sim.fire(CM, "close", review_notes="Root cause: missing library")
    assert sim.state == "backed_out"


def test_change_normal_cannot_skip_assessment() -> None:
    sim = Sim("change", ALICE, title="x")
    refusal = sim.refused(CM, "submit", **PLANS)
    assert refusal.kind == "GuardFailed" and "emergency" in refusal.message


def test_change_approval_reminder_and_escalation() -> None:
    sim = change()
    sim.fire(CM, "submit", **PLANS)
    sim.advance(timedelta(days=1))  # Tuesday 09:00: 8 working hours
    assert sim.engine.record.approvals[-1].reminders_sent == 1
    sim.advance(timedelta(days=2))  # Thursday 09:00: 24 working hours = deadline
    assert sim.engine.record.approvals[-1].escalated
    assert ["role:change_manager"] in [to for name, to in sim.notes if name == "approval"]


# ------------------------------------------------------------------------------------------------
# Release

ROB = Actor(username="rob", roles=["agent"], groups=["release_team"])
BOB_QA = Actor(username="bob", roles=["agent"], groups=["release_team", "qa"])
QUINN = Actor(username="quinn", roles=["agent"], groups=["qa"])
RITA_RM = Actor(username="rita", roles=["agent", "release_manager"], groups=["release_managers"])

RELEASE_PLAN: dict[str, Any] = {
    "release_plan": "Deploy mail relay 2.2",
    "test_plan": "Regression suite",
    "rollback_plan": "Redeploy 2.1",
    "acceptance_criteria": "All regression tests green",
    "planned_start": "2026-03-07T14:00:00+00:00",
    "planned_end": "2026-03-07T16:00:00+00:00",
}


def built_release() -> Sim:
    sim = Sim("release", RITA_RM, title="Mail relay 2.2")
    sim.fire(RITA_RM, "start_build", **RELEASE_PLAN)
    sim.fire(BOB_QA, "build_complete", version="2.2.0")
    assert sim.fields["builder"] == "bob"
    sim.fire(ROB, "submit_tests", test_environment="UAT-2", test_report="412 tests passed")
    assert sim.state == "test_signoff"
    return sim


def test_release_happy_path() -> None:
    sim = built_release()
    sim.decide(QUINN, "test_signoff")
    assert sim.state == "authorisation" and sim.fields["tested"] is True
    sim.decide(RITA_RM, "release_authorisation")
    assert sim.state == "scheduled"
    sim.fire(RITA_RM, "deploy")
    sim.fire(RITA_RM, "deployed", deployment_notes="Deployed to both nodes")
    assert sim.refused(RITA_RM, "verify", verification_notes="ok").kind == "GuardFailed"
    sim.update(RITA_RM, dsl_updated=True, cmdb_updated=True)
    sim.fire(RITA_RM, "verify", verification_notes="Acceptance criteria met")
    assert sim.state == "completed"
    assert ["user:rita", "group:service_desk", "group:release_team"] in sim.sent("released")


def test_release_signoff_by_the_builder_is_refused() -> None:
    sim = built_release()
    assert sim.engine.record.approvals[-1].excluded == {"bob": "field:builder"}
    with pytest.raises(Refusal) as info:
        sim.decide(BOB_QA, "test_signoff")
    assert info.value.kind == "SeparationOfDuties"
    assert sim.state == "test_signoff"


def test_release_plan_needs_rollback_plan() -> None:
    sim = Sim("release", RITA_RM, title="x")
    plan = {k: v for k, v in RELEASE_PLAN.items() if k != "rollback_plan"}
    refusal = sim.refused(RITA_RM, "start_build", **plan)
    assert (
        refusal.kind == "MissingFields"
        and {"path": "fields.rollback_plan", "message": "required"} in refusal.errors
    )


def test_release_emergency_needs_its_change() -> None:
    sim = Sim("release", RITA_RM, title="Hotfix", emergency=True)
    refusal = sim.refused(RITA_RM, "start_build", **RELEASE_PLAN)
    assert refusal.kind == "GuardFailed" and "emergency change" in refusal.message
    sim.fire(RITA_RM, "start_build", change="change-7", **RELEASE_PLAN)
    assert sim.state == "building"


def test_release_rolled_back() -> None:
    sim = built_release()
    sim.decide(QUINN, "test_signoff")
    sim.decide(RITA_RM, "release_authorisation")
    sim.fire(RITA_RM, "deploy")
    sim.fire(RITA_RM, "deployed", deployment_notes="Node 2 failed health checks")
    refusal = sim.refused(RITA_RM, "roll_back")
    assert refusal.kind == "MissingFields"
    sim.fire(RITA_RM, "roll_back", rollback_notes="2.1 redeployed")
    assert sim.state == "rolled_back" and sim.snap.final
    assert ["user:rita", "group:service_desk", "role:release_manager"] in sim.sent("rolled_back")


def test_release_refused_signoff_goes_back_to_build() -> None:
    sim = built_release()
    sim.decide(QUINN, "test_signoff", "reject")
    assert sim.state == "building" and sim.fields.get("tested") is False


# ------------------------------------------------------------------------------------------------
# Handover

DAN = Actor(username="dan", roles=["agent"], groups=["delivery_pm"])
OLGA = Actor(username="olga", roles=["agent"], groups=["operations_receiving"])
CRITERIA = {
    "built_and_live": True,
    "business_acceptance_passed": True,
    "operations_acceptance_passed": True,
    "preproduction_env": True,
    "ha_deployment_app_db": True,
}
DELIVERABLES = {
    "requirements_docs_accepted": True,
    "functional_specs_accepted": True,
    "om_technical_docs_accepted": True,
    "completion_docs_accepted": True,
    "operator_training_done": True,
}


def handover_at_admission() -> Sim:
    sim = Sim(
        "handover",
        DAN,
        title="CRM handover",
        contract="HT-2026-001",
        system_name="CRM",
        delivery_manager="dan",
        receiving_manager="olga",
        receiving_group="operations_receiving",
    )
    sim.fire(DAN, "invite_receiving_side")
    assert sim.sent("early_involvement") == [["user:olga", "group:operations_receiving"]]
    sim.update(DAN, system_testing_started=True, notice_at_least_3_months=True)
    sim.fire(DAN, "start_handover", planned_handover_date="2026-06-30T00:00:00+08:00")
    sim.fire(
        DAN,
        "submit_plan",
        handover_plan="Scope: CRM; risks: ...",
        stakeholders=["CRM team", "DBA"],
        phase_scope="Whole system",
    )
    sim.decide(DAN, "plan_approval")
    assert sim.state == "plan_approval"  # policy all: both sides
    sim.decide(OLGA, "plan_approval")
    assert sim.state == "admission"
    return sim


def test_handover_happy_path_moves_duty_to_receiving_side() -> None:
    sim = handover_at_admission()
    assert sim.fields["responsible_side"] == "delivery"
    sim.update(OLGA, **CRITERIA)
    sim.fire(OLGA, "admit")
    sim.update(OLGA, **DELIVERABLES)
    sim.fire(OLGA, "accept_deliverables")
    sim.update(OLGA, assets_verified=True)
    sim.fire(OLGA, "assets_checked", asset_list="2 app servers, 2 db servers")
    assert sim.state == "signoff"
    sim.decide(DAN, "signoff")
    assert sim.fields["responsible_side"] == "delivery"  # the receiving side has not signed yet
    sim.decide(OLGA, "signoff")
    assert sim.state == "handed_over" and sim.fields["responsible_side"] == "receiving"
    assert sim.refused(OLGA, "close").kind == "GuardFailed"
    sim.update(OLGA, archives_transferred=True)
    sim.fire(OLGA, "close")
    assert sim.state == "closed"


def test_handover_admission_criterion_failed() -> None:
    sim = handover_at_admission()
    sim.update(OLGA, **{**CRITERIA, "operations_acceptance_passed": False})
    refusal = sim.refused(OLGA, "admit")
    assert refusal.kind == "GuardFailed"
    assert "admission criteria not met" in refusal.message and "operations" in refusal.message
    assert sim.state == "admission"
    # No pre-production environment: a written exception is accepted instead.
    sim.update(OLGA, operations_acceptance_passed=True, preproduction_env=False)
    assert sim.refused(OLGA, "admit").kind == "GuardFailed"
    sim.update(OLGA, preproduction_exception="Low-importance system, releases every 3 months")
    # A subcontractor hands over to the delivery side first.
    sim.update(OLGA, has_subcontractor=True)
    assert sim.refused(OLGA, "admit").kind == "GuardFailed"
    sim.update(OLGA, subcontractor_handover_done=True)
    sim.fire(OLGA, "admit")
    assert sim.state == "knowledge_transfer"
    sim.update(OLGA, **{**DELIVERABLES, "completion_docs_accepted": False})
    refusal = sim.refused(OLGA, "accept_deliverables")
    assert refusal.kind == "GuardFailed" and "completion documents" in refusal.message


def test_handover_short_notice_needs_a_reason() -> None:
    sim = Sim(
        "handover",
        DAN,
        title="x",
        contract="HT-1",
        system_name="ERP",
        delivery_manager="dan",
        receiving_manager="olga",
    )
    date = "2026-04-01T00:00:00+08:00"
    refusal = sim.refused(DAN, "start_handover", planned_handover_date=date)
    assert refusal.kind == "GuardFailed" and "system testing" in refusal.message
    sim.update(DAN, system_testing_started=True)
    refusal = sim.refused(DAN, "start_handover", planned_handover_date=date)
    assert (
        refusal.kind == "MissingFields"
        and {"path": "fields.notice_exception_reason", "message": "required"} in refusal.errors
    )
    sim.fire(
        DAN, "start_handover", planned_handover_date=date, notice_exception_reason="Contract signed late"
    )
    assert sim.state == "planning"


def test_handover_next_phase_resets_the_checks() -> None:
    sim = handover_at_admission()
    sim.update(OLGA, **CRITERIA)
    sim.fire(OLGA, "admit")
    sim.update(OLGA, **DELIVERABLES, assets_verified=True)
    sim.fire(OLGA, "accept_deliverables")
    sim.fire(OLGA, "assets_checked", asset_list="servers")
    sim.decide(DAN, "signoff")
    sim.decide(OLGA, "signoff")
    sim.fire(DAN, "next_phase", comment="Phase 2: reporting module", phase=2, phase_scope="Reporting")
    assert sim.state == "planning" and sim.fields["phase"] == 2
    assert sim.fields["requirements_docs_accepted"] is False and sim.fields["assets_verified"] is False


# ------------------------------------------------------------------------------------------------
# Service level

SLY = actor("sly", "agent", "service_level_manager", "sales_manager")
CUST = actor("cust")


def sla_in_force() -> Sim:
    sim = Sim("service_level", SLY, title="ACME O&M", customer="ACME")
    sim.fire(SLY, "accept_requirement", service_requirement="24x7 O&M of the ERP")
    sim.fire(SLY, "scope_agreed", services_in_scope=["ERP", "Mail"], project_manager="pm")
    sim.fire(SLY, "strategy_defined", strategy="Monthly reports, quarterly reviews")
    sim.fire(
        SLY,
        "submit_for_signature",
        customer_representative="cust",
        provider_signatory="sly",
        valid_from="2026-03-01T00:00:00+08:00",
        valid_until="2027-02-28T00:00:00+08:00",
        service_hours="ERP 7x24; Mail 08:00-17:00",
        availability_target="99.9%",
        response_resolution_targets="P1 15 min / 4 h",
        reports="Monthly SLA report to the CIO",
    )
    sim.decide(SLY, "signature")
    assert sim.state == "signing"  # the customer signs too
    sim.decide(CUST, "signature")
    assert sim.state == "in_force" and sim.fields["review_round"] == "q1"
    return sim


def test_service_level_quarterly_reviews_then_yearly_renewal() -> None:
    sim = sla_in_force()
    for expected in ("q2", "q3", "q4"):
        sim.advance(timedelta(days=90))
        assert sim.state == "in_review"
        sim.fire(SLY, "review_done", review_notes="Targets met")
        assert sim.state == "in_force" and sim.fields["review_round"] == expected
    sim.advance(timedelta(days=89))
    assert sim.state == "in_force"
    sim.advance(timedelta(days=1))
    sim.fire(SLY, "review_done", review_notes="Annual review")
    assert sim.state == "renewal"
    assert len(sim.sent("renewal_due")) == 1
    sim.fire(SLY, "renew", valid_from="2027-03-01T00:00:00+08:00", valid_until="2028-02-29T00:00:00+08:00")
    sim.decide(SLY, "signature")
    sim.decide(CUST, "signature")
    assert sim.state == "in_force" and sim.fields["review_round"] == "q1"


def test_service_level_change_goes_through_change_management() -> None:
    sim = sla_in_force()
    assert sim.refused(SLY, "request_change").kind == "MissingFields"
    sim.fire(SLY, "request_change", change_reason="Add the CRM to the scope")
    assert sim.state == "amending"
    definition, fields, back = sim.created[-1]
    assert definition == "change" and fields["sla_impact"] is True and back == "related_sla"
    assert sim.fields["change"] == "change-99"
    sim.fire(SLY, "change_applied", amendment_notes="CRM added, 99.5%")
    assert sim.state == "in_force"


# ------------------------------------------------------------------------------------------------
# Data access

SEC = Actor(username="sec", roles=["agent"], groups=["security"])
OWNER = actor("owen", "approver")


def test_data_access_approved_then_expires_after_seven_days() -> None:
    sim = Sim(
        "data_access",
        ALICE,
        title="Customer table for churn analysis",
        data_set="crm.customers",
        classification="confidential",
        purpose="Churn analysis",
        data_owner="owen",
    )
    sim.fire(ALICE, "submit")
    with pytest.raises(Refusal) as info:
        sim.decide(ALICE, "access_approval")  # nobody approves their own access
    assert info.value.kind == "SeparationOfDuties"
    sim.decide(OWNER, "access_approval")
    assert sim.state == "approval"
    sim.decide(SEC, "access_approval")
    assert sim.state == "granted" and "granted_at" in sim.fields
    sim.advance(timedelta(days=6, hours=23))
    assert sim.state == "granted"
    sim.advance(timedelta(hours=1))
    assert sim.state == "ended" and sim.fields["end_reason"] == "expired"
    assert sim.refused(ALICE, "close", usage_review="x").kind == "NotAllowed"
    sim.fire(SEC, "close", usage_review="Read-only queries, no export")
    assert sim.state == "closed"


def test_data_access_not_decided_in_time_is_rejected() -> None:
    sim = Sim(
        "data_access",
        ALICE,
        title="x",
        data_set="hr.salaries",
        classification="secret",
        purpose="Audit",
        data_owner="owen",
    )
    sim.fire(ALICE, "submit")
    sim.advance(timedelta(days=3))  # 2 working days passed
    assert sim.state == "rejected"


def test_data_access_revoked_by_the_owner() -> None:
    sim = Sim(
        "data_access",
        ALICE,
        title="x",
        data_set="crm.customers",
        classification="internal",
        purpose="Report",
        data_owner="owen",
    )
    sim.fire(ALICE, "submit")
    sim.decide(OWNER, "access_approval")
    sim.decide(SEC, "access_approval")
    assert sim.refused(OWNER, "revoke").kind == "MissingFields"
    sim.fire(OWNER, "revoke", comment="Purpose fulfilled")
    assert sim.state == "ended" and sim.fields["end_reason"] == "revoked"


def test_accepting_an_incident_assigns_it_to_the_one_who_accepts() -> None:
    """Issue 16: `set: {assignee: $actor_if_empty}` on the library incident's accept."""
    sim = incident("2", "2")
    sim.fire(SAM, "accept")
    assert sim.snap.assignee == "sam"
    other = incident("2", "2")
    other.fire(SAM, "accept", assignee="lee")  # a dispatcher accepts it for a colleague
    assert other.snap.assignee == "lee"


def test_the_requester_form_holds_every_required_field_of_a_known_process() -> None:
    source = (SHIPPED / "incident.yaml").read_text(encoding="utf-8")
    shipped = load_file(SHIPPED / "incident.yaml").definition
    assert shipped is not None and shipped.requester_form == [
        "description",
        "service",
        "impact",
        "urgency",
        "category",
    ]
    bad = source.replace(
        "requester_form: [description, service, impact, urgency, category]",
        "requester_form: [description, descripton, urgency, urgency]",
    )
    issues = {(i.path, i.message) for i in from_data(yaml.safe_load(bad)).issues}
    assert ("requester_form[1]", "unknown field 'descripton'") in issues
    assert ("requester_form[3]", "duplicate field 'urgency'") in issues
    assert (
        "requester_form",
        "the requester's form leaves out 'impact', which a new record requires",
    ) in issues
    no_requesters = source.replace("\nfields:\n", "\nstart_roles: [agent, integrator]\nfields:\n", 1)
    issues = {(i.path, i.message) for i in from_data(yaml.safe_load(no_requesters)).issues}
    assert ("requester_form", "requesters may not start this process (start_roles)") in issues
