"""Approvals: opening levels, resolving approvers, decisions and policies, reminders and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from definitions.model import ApprovalLevel
from tests.unit.engine.support import (
    ALICE,
    BOB,
    BOSS,
    CAB,
    CAROL,
    DAVE,
    ERIN,
    SYSTEM,
    T0,
    actions,
    answer_resolves,
    fire,
    fixture,
    inline,
    mini,
    start,
)
from workflows.contracts import Actor, ApprovalTask, DecideApprovalInput, Decision
from workflows.engine import Outcome, ProcessEngine, Refusal, ResolveRequest
from workflows.engine import policies as policy

S1 = T0 + timedelta(seconds=1)


def submitted(**fields: object) -> tuple[ProcessEngine, Outcome]:
    """A mini.yaml record just submitted for approval (the CAB level opened, approvers not yet known)."""
    engine = mini(**fields)
    fire(engine, BOB, "accept", assignee="bob")
    return engine, fire(engine, BOB, "submit", S1, plan="p", backout_plan="b", risk=1)


def decide(engine: ProcessEngine, actor: Actor, task: str, decision: str = "approve") -> Outcome:
    return engine.decide(DecideApprovalInput(actor=actor, approval_id=task, decision=decision), S1)  # type: ignore[arg-type]


def refused(engine: ProcessEngine, actor: Actor, task: str) -> Refusal:
    before = engine.record.model_copy(deep=True)
    with pytest.raises(Refusal) as info:
        engine.check_decide(DecideApprovalInput(actor=actor, approval_id=task, decision="approve"))
    with pytest.raises(Refusal):
        decide(engine, actor, task)
    assert engine.record == before
    return info.value


# --- opening a level and resolving its approvers -------------------------------------------------------


def test_entering_the_approval_state_opens_the_first_level() -> None:
    engine, out = submitted()
    assert actions(out) == ["transition", "approval_opened"]
    assert out.events[1].details == {
        "approval": "rec1.a1",
        "step": "cab",
        "level": "board",
        "policy": "quorum",
        "deadline": None,
    }
    assert out.resolves == [ResolveRequest("rec1.a1", [], ["cab"], [])]
    [task] = engine.record.approvals
    assert (task.state, task.step, task.level, task.level_name, task.opened_at, task.groups) == (
        "resolving",
        "cab",
        0,
        "board",
        S1,
        ["cab"],
    )
    assert engine.record.approval_counter == 1


def test_resolved_approvers_minus_separation_of_duties_make_the_task_pending() -> None:
    engine, out = submitted(builder="dave")
    more = engine.approvers_resolved("rec1.a1", ["carol", "dave", "alice", "erin", "carol"], S1)
    assert actions(more) == ["approval_pending"]
    assert more.events[0].details == {
        "approval": "rec1.a1",
        "eligible": ["carol", "erin"],
        "needed": 2,
        "excluded": {"dave": "field:builder", "alice": "requester"},
    }
    task = engine.record.approvals[0]
    assert (task.state, task.eligible, task.needed) == ("pending", ["carol", "erin"], 2)
    # A late or repeated answer changes nothing.
    assert engine.approvers_resolved("rec1.a1", ["x"], S1).events == []
    with pytest.raises(Refusal) as info:
        engine.approvers_resolved("rec1.a9", [], S1)
    assert (info.value.kind, info.value.message) == ("UnknownApproval", "no approval 'rec1.a9' on TST0000001")


def test_too_few_eligible_approvers_is_recorded() -> None:
    engine, _ = submitted()
    more = engine.approvers_resolved("rec1.a1", ["carol"], S1)
    assert actions(more) == ["approval_pending", "approval_unsatisfiable"]
    assert more.events[1].details["message"] == (
        "2 approvals needed but only 1 eligible approver(s) after separation of duties"
    )
    assert more.notifications == []  # mini's step names nobody to escalate to


# --- decisions ---------------------------------------------------------------------------------------


def test_who_may_decide() -> None:
    engine, out = submitted(builder="dave")
    answer_resolves(engine, out, CAB, S1)
    assert refused(engine, CAROL, "rec1.a7").kind == "UnknownApproval"
    refusal = refused(engine, DAVE, "rec1.a1")
    assert (refusal.kind, refusal.message) == (
        "SeparationOfDuties",
        "separation of duties: dave is the builder of TST0000001 and may not decide this "
        "approval (rule: exclude field:builder)",
    )
    refusal = refused(engine, Actor(username="alice", roles=["approver"], groups=["cab"]), "rec1.a1")
    assert refusal.message == (
        "separation of duties: alice is the requester of TST0000001 and may not decide this approval "
        "(rule: exclude requester)"
    )
    refusal = refused(engine, BOSS, "rec1.a1")
    assert (refusal.kind, refusal.message) == (
        "NotAllowed",
        "boss is not an approver of “cab” (board) on TST0000001",
    )
    decide(engine, CAROL, "rec1.a1")
    refusal = refused(engine, CAROL, "rec1.a1")
    assert (refusal.kind, refusal.message) == (
        "AlreadyDecided",
        "carol has already decided approval “cab” of TST0000001",
    )


def test_separation_of_duties_reads_the_fields_at_decision_time() -> None:
    engine, out = submitted()
    answer_resolves(engine, out, CAB, S1)
    engine.record.fields["builder"] = "erin"
    assert refused(engine, ERIN, "rec1.a1").kind == "SeparationOfDuties"


def test_a_member_of_an_approver_group_who_joined_later_may_decide() -> None:
    engine, out = submitted()
    answer_resolves(engine, out, CAB, S1)
    newcomer = Actor(username="nina", roles=["approver"], groups=["cab"])
    decide(engine, newcomer, "rec1.a1")
    assert "nina" in engine.record.approvals[0].eligible


def test_levels_run_in_order_and_the_last_approval_fires_on_approved() -> None:
    engine, out = submitted()
    answer_resolves(engine, out, CAB, S1)
    out = decide(engine, CAROL, "rec1.a1")
    assert actions(out) == ["approval_decision"]
    assert out.events[0].details == {
        "approval": "rec1.a1",
        "step": "cab",
        "level": "board",
        "decision": "approve",
    }
    assert engine.record.approvals[0].decisions == [Decision(by="carol", decision="approve", at=S1)]
    out = decide(engine, DAVE, "rec1.a1")
    assert actions(out) == ["approval_decision", "approval_approved", "approval_opened"]
    assert out.resolves == [ResolveRequest("rec1.a2", ["boss"], [], [])]
    board, manager = engine.record.approvals
    assert (board.state, board.closed_at, manager.level_name, manager.policy) == (
        "approved",
        S1,
        "manager",
        "all",
    )
    assert (
        refused(engine, ERIN, "rec1.a1").message
        == "approval “cab” of TST0000001 is approved; it takes no more decisions"
    )
    answer_resolves(engine, out, CAB, S1)
    out = decide(engine, BOSS, "rec1.a2")
    assert actions(out) == ["approval_decision", "approval_approved", "transition"]
    transition = out.events[2]
    assert (transition.actor, transition.from_state, transition.to_state) == (
        "system:approval:cab",
        "approval",
        "in_progress",
    )
    assert engine.record.state == "in_progress"


def test_a_rejection_fires_on_rejected() -> None:
    engine, out = submitted()
    answer_resolves(engine, out, CAB, S1)
    decide(engine, CAROL, "rec1.a1", "reject")
    out = decide(engine, DAVE, "rec1.a1", "reject")  # quorum 2 of 3 is out of reach
    assert actions(out)[:3] == ["approval_decision", "approval_rejected", "transition"]
    assert engine.record.state == "rejected"


def test_leaving_the_state_cancels_open_approvals() -> None:
    engine, out = submitted()
    out = fire(engine, SYSTEM, "reject", S1)
    assert actions(out) == ["transition", "sla_stopped", "approval_cancelled"]
    assert out.events[2].details == {"approval": "rec1.a1", "reason": "record left state approval"}
    assert engine.record.approvals[0].state == "cancelled"


# --- policies ------------------------------------------------------------------------------------------


def level(policy_name: str, **extra: object) -> ApprovalLevel:
    return ApprovalLevel.model_validate(
        {"name": "l", "approvers": {"users": ["x"]}, "policy": policy_name, **extra}
    )


def task(needed: int, eligible: list[str], *decisions: tuple[str, str]) -> ApprovalTask:
    return ApprovalTask(
        id="t",
        step="s",
        level=0,
        level_name="l",
        policy="any",
        needed=needed,
        eligible=eligible,
        decisions=[Decision(by=by, decision=d, at=T0) for by, d in decisions],  # type: ignore[arg-type]
        opened_at=T0,
    )


def test_how_many_approvals_each_policy_needs() -> None:
    assert policy.needed(level("any"), 5) == 1
    assert policy.needed(level("all"), 5) == 5
    assert policy.needed(level("all"), 0) == 1
    assert policy.needed(level("quorum", quorum=3), 5) == 3
    assert policy.needed(level("percentage", percentage=50), 5) == 3
    assert policy.needed(level("percentage", percentage=10), 3) == 1


def test_when_each_policy_decides() -> None:
    abc = ["a", "b", "c"]
    assert policy.outcome(level("any"), task(1, abc, ("a", "reject"), ("b", "approve"))) == "rejected"
    assert policy.outcome(level("any"), task(1, abc)) is None
    assert policy.outcome(level("all"), task(3, abc, ("a", "approve"), ("b", "approve"))) is None
    assert policy.outcome(level("all"), task(3, abc, ("a", "approve"), ("b", "reject"))) == "rejected"
    assert (
        policy.outcome(level("all"), task(3, abc, ("a", "approve"), ("b", "approve"), ("c", "approve")))
        == "approved"
    )
    assert policy.outcome(level("quorum", quorum=2), task(2, abc, ("a", "reject"))) is None
    assert (
        policy.outcome(level("quorum", quorum=2), task(2, abc, ("a", "reject"), ("b", "reject")))
        == "rejected"
    )
    assert (
        policy.outcome(level("percentage", percentage=60), task(2, abc, ("c", "approve"), ("a", "approve")))
        == "approved"
    )


APPROVERS = inline(
    """
key: approvers
title: Approvers
number_prefix: APR
owner: process_owner
roles:
  auditor: Auditor
fields:
  - {name: sponsor, type: user}
  - {name: reviewers, type: list, item_type: user}
  - {name: board, type: group}
states:
  - {name: draft, category: new}
  - {name: review, category: open}
  - {name: done, category: closed, final: true}
  - {name: dropped, category: closed, final: true}
transitions:
  - {trigger: submit, from: draft, to: review, allowed: {roles: [requester]}}
  - {trigger: accept, from: review, to: done}
  - {trigger: drop, from: review, to: dropped}
approvals:
  - name: review
    state: review
    levels:
      - name: people
        approvers: {users: [sam, sponsor], fields: [sponsor, reviewers, board], roles: [auditor]}
        policy: percentage
        percentage: 50
    separation_of_duties: {exclude: [assignee]}
    on_approved: accept
    on_rejected: drop
"""
)


def test_approvers_named_by_fields_groups_and_roles() -> None:
    engine, _ = start(APPROVERS, sponsor="spo", reviewers=["rev", "spo"], board="board-group", assignee="rev")
    out = fire(engine, ALICE, "submit")
    assert out.resolves == [
        ResolveRequest("rec1.a1", ["sam", "sponsor", "spo", "rev"], ["board-group"], ["auditor"])
    ]
    more = engine.approvers_resolved("rec1.a1", ["sam", "spo", "rev", "bo"], T0)
    assert more.events[0].details["excluded"] == {"rev": "assignee"}
    task_ = engine.record.approvals[0]
    assert (task_.eligible, task_.needed) == (["bo", "sam", "spo"], 2)
    # A holder of an approver role may decide without having been resolved.
    decide(engine, Actor(username="aud", roles=["auditor"]), "rec1.a1")
    out = decide(engine, Actor(username="sam"), "rec1.a1")
    assert engine.record.state == "done" and "approval_approved" in actions(out)


# --- reminders and expiry --------------------------------------------------------------------------------


def deadline_record(directory: dict[str, list[str]] | None = None) -> ProcessEngine:
    engine, _ = start(fixture("approval_deadline.yaml"))
    out = fire(engine, ALICE, "submit")
    answer_resolves(engine, out, directory or CAB, T0)
    return engine


def test_the_deadline_is_set_when_the_level_opens() -> None:
    engine, _ = start(fixture("approval_deadline.yaml"))
    out = fire(engine, ALICE, "submit")
    assert out.events[1].details["deadline"] == "2026-03-02T09:00:04+00:00"
    assert engine.record.approvals[0].deadline == T0 + timedelta(seconds=4)


def test_a_reminder_goes_to_those_who_have_not_decided() -> None:
    engine = deadline_record()
    decide(engine, CAROL, "rec1.a1")
    assert engine.next_wakeup() == T0 + timedelta(seconds=2)
    out = engine.on_timers(T0 + timedelta(seconds=2))
    assert actions(out) == ["approval_reminder"]
    assert out.events[0].details == {"approval": "rec1.a1", "to": ["dave", "erin"], "reminder": 1}
    [note] = out.notifications
    assert (note.template, note.subject["en"], note.body["en"]) == (
        "approval",
        "Please decide {{number}}",
        "deadline {{deadline}}",
    )
    assert [r.name for r in note.recipients] == ["dave", "erin"]
    assert (note.context["approval"], note.context["deadline"]) == ("board", "2026-03-02T09:00:04+00:00")
    assert engine.record.approvals[0].reminders_sent == 1
    assert engine.next_wakeup() == T0 + timedelta(seconds=4)  # no second reminder: the deadline


def test_at_the_deadline_the_escalation_is_sent_and_the_expiry_rule_applies() -> None:
    engine = deadline_record()
    out = engine.on_timers(T0 + timedelta(seconds=5))  # the reminder and the deadline, in order
    assert actions(out) == ["approval_reminder", "approval_deadline", "approval_rejected", "transition"]
    assert [e.at for e in out.events] == [T0 + timedelta(seconds=s) for s in (2, 4, 4, 4)]
    assert out.events[1].details == {"approval": "rec1.a1", "on_expiry": "reject"}
    escalation = out.notifications[1]
    assert escalation.subject["en"] == "Approval escalated: {{number}} {{title}}"
    assert [r.name for r in escalation.recipients] == ["boss"]
    assert engine.record.state == "rejected" and engine.record.approvals[0].escalated


EXPIRY = """
key: expiry
title: Expiry
number_prefix: EXP
owner: process_owner
calendars:
  office: {timezone: UTC, weekly: {mon: ["09:00-17:00"], tue: ["09:00-17:00"]}}
states:
  - {name: draft, category: new}
  - {name: review, category: open}
  - {name: done, category: closed, final: true}
  - {name: lapsed, category: closed, final: true}
transitions:
  - {trigger: submit, from: draft, to: review, allowed: {roles: [requester]}}
  - {trigger: accept, from: review, to: done}
  - {trigger: drop, from: review, to: done}
  - {trigger: lapse, from: review, to: lapsed}
approvals:
  - name: review
    state: review
    levels:
      - {name: one, approvers: {users: [sam]}}
    deadline: PT2H
    calendar: office
    reminders: [PT1H]
    escalate_to: ["user:boss"]
    on_expiry: ON_EXPIRY
    on_approved: accept
    on_rejected: drop
"""


@pytest.mark.parametrize(
    ("on_expiry", "actions_after", "state"),
    [
        ("escalate", ["approval_reminder", "approval_deadline"], "review"),
        ("approve", ["approval_reminder", "approval_deadline", "approval_approved", "transition"], "done"),
        (
            "fire\n    expiry_trigger: lapse",
            ["approval_reminder", "approval_deadline", "approval_expired", "transition"],
            "lapsed",
        ),
    ],
)
def test_expiry_rules_and_deadlines_in_business_hours(
    on_expiry: str, actions_after: list[str], state: str
) -> None:
    pinned = inline(EXPIRY.replace("ON_EXPIRY", on_expiry))
    engine, _ = start(pinned, now=T0 + timedelta(hours=7))  # Monday 16:00
    out = fire(engine, ALICE, "submit", T0 + timedelta(hours=7))
    engine.approvers_resolved(out.resolves[0].task_id, ["sam"], T0 + timedelta(hours=7))
    tuesday_10 = T0 + timedelta(days=1, hours=1)
    assert engine.record.approvals[0].deadline == tuesday_10  # one hour on Monday, one on Tuesday
    assert engine.next_wakeup() == T0 + timedelta(hours=8)  # the reminder: Monday 17:00
    out = engine.on_timers(tuesday_10)
    assert actions(out) == actions_after
    assert (
        out.notifications[0].subject["en"] == "Approval reminder: {{number}} {{title}}"
    )  # no template: generic
    assert engine.record.state == state
    assert engine.on_timers(tuesday_10 + timedelta(days=7)).events == []  # each fires once
