"""The commands and their checks: each `check_*` refuses with the rule that refused and changes nothing;
the command re-checks and applies. Which transition a trigger takes, and what entering a state does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from definitions import compiler
from tests.unit.engine.support import ALICE, BOB, SYSTEM, T0, actions, fire, inline, mini, start
from workflows.contracts import Actor, AddCommentInput, FireTransitionInput, UpdateFieldsInput
from workflows.engine import ProcessEngine, Refusal

# One trigger, several transitions: the first whose permission and guard pass is taken.
TRIAGE = inline(
    """
key: triage
title: Triage
number_prefix: TRI
owner: process_owner
roles:
  manager: Manager
fields:
  - {name: severity, type: int}
  - {name: reason, type: text}
states:
  - {name: new, category: new}
  - {name: urgent, category: open, required: [reason]}
  - {name: normal, category: open}
  - {name: managed, category: open}
  - {name: done, category: closed, final: true}
transitions:
  - trigger: route
    from: new
    to: managed
    allowed: {roles: [manager]}
    guard: {field: severity, op: is_set}
  - trigger: route
    from: new
    to: urgent
    allowed: {roles: [agent]}
    guard: {field: severity, op: ge, value: 3}
  - trigger: route
    from: new
    to: normal
    allowed: {roles: [agent]}
    guard: {field: severity, op: lt, value: 3}
  - trigger: close
    from: "*"
    to: done
    allowed: {relations: [requester], users: [zed], groups: [desk]}
    guard: {all: [{field: reason, op: is_set}, {not: {field: severity, op: gt, value: 8}}]}
"""
)


def refused(
    engine: ProcessEngine, actor: Actor, trigger: str, comment: str | None = None, **fields: object
) -> Refusal:
    """check_fire and fire refuse alike, and neither changes the record."""
    before = engine.record.model_copy(deep=True)
    inp = FireTransitionInput(actor=actor, trigger=trigger, fields=fields, comment=comment)
    with pytest.raises(Refusal) as checked:
        engine.check_fire(inp)
    with pytest.raises(Refusal) as fired:
        engine.fire(inp, T0)
    assert (checked.value.kind, checked.value.message, checked.value.errors) == (
        fired.value.kind,
        fired.value.message,
        fired.value.errors,
    )
    assert engine.record == before
    return checked.value


# --- check_fire ---------------------------------------------------------------------------------------


def test_an_unknown_trigger() -> None:
    refusal = refused(mini(), BOB, "teleport")
    assert (refusal.kind, refusal.message) == (
        "UnknownTrigger",
        "Test process has no action 'teleport'",
    )


def test_a_trigger_from_the_wrong_state_names_where_it_may_fire() -> None:
    refusal = refused(mini(), ALICE, "confirm")
    assert (refusal.kind, refusal.message) == (
        "WrongState",
        "“confirm” is not possible while TST0000001 is “New” (only from: Resolved)",
    )


def test_who_may_fire_is_spelled_out() -> None:
    refusal = refused(mini(), ALICE, "accept", assignee="bob")
    assert (refusal.kind, refusal.message) == (
        "NotAllowed",
        "alice may not “accept” on TST0000001: allowed for Agent",
    )
    engine, _ = start(TRIAGE, actor=BOB)
    refusal = refused(engine, ALICE, "route")
    assert refusal.message == ("alice may not “route” on TST0000001: allowed for Manager or Agent")
    refusal = refused(engine, Actor(username="x", roles=["agent"]), "close")
    assert refusal.message == (
        "x may not “close” on TST0000001: allowed for members of desk, zed, the record's requester"
    )


def test_system_only_transitions() -> None:
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    fire(engine, BOB, "submit", plan="p", backout_plan="b", risk=1)
    refusal = refused(engine, BOB, "approve")
    assert refusal.message == "bob may not “approve” on TST0000001: allowed for the engine only"


def test_the_permission_is_checked_before_the_values() -> None:
    refusal = refused(mini(), ALICE, "accept", assignee="bob", impact="9")
    assert refusal.kind == "NotAllowed"


def test_values_are_checked_before_the_guard() -> None:
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    refusal = refused(engine, BOB, "submit", plan="p", backout_plan="b", risk="high")
    assert (refusal.kind, refusal.errors) == (
        "InvalidFields",
        [{"path": "fields.risk", "message": "expected a whole number, got 'high'"}],
    )


def test_a_failed_guard_gives_its_message() -> None:
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    refusal = refused(engine, BOB, "submit", plan="p", backout_plan="b", risk=5)
    assert (refusal.kind, refusal.message) == ("GuardFailed", "“submit” refused: risk must be at most 4")
    # The guard reads the values sent with the trigger, not only the stored ones.
    engine.record.fields["risk"] = 5
    fire(engine, BOB, "submit", plan="p", backout_plan="b", risk=2)
    assert engine.record.state == "approval"


def test_a_failed_guard_without_message_describes_itself() -> None:
    engine, _ = start(TRIAGE, actor=BOB, severity=9, reason="r")
    refusal = refused(engine, BOB, "close")
    assert (refusal.kind, refusal.message) == (
        "GuardFailed",
        "“close” refused: condition not met: (reason is filled in) and (not (severity > 8))",
    )


def test_required_fields_of_the_transition_and_the_target_state_and_a_comment() -> None:
    engine = mini()
    refusal = refused(engine, BOB, "accept")
    assert (refusal.kind, refusal.message, refusal.errors) == (
        "MissingFields",
        "“accept” needs: Assignee",
        [{"path": "fields.assignee", "message": "required"}],
    )
    fire(engine, BOB, "accept", assignee="bob")
    refusal = refused(engine, BOB, "submit", plan="p", risk=1)
    assert refusal.message == "“submit” needs: backout_plan"
    fire(engine, BOB, "resolve", resolution="done")
    refusal = refused(engine, ALICE, "reopen", comment="  ")
    assert (refusal.message, refusal.errors) == (
        "“reopen” needs: a comment",
        [{"path": "comment", "message": "required"}],
    )
    fire(engine, ALICE, "reopen", comment="still broken")
    assert engine.record.state == "in_progress"


def test_the_first_transition_whose_permission_and_guard_pass_is_taken() -> None:
    manager = Actor(username="m", roles=["manager", "agent"])
    engine, _ = start(TRIAGE, actor=BOB, severity=1)
    fire(engine, manager, "route")
    assert engine.record.state == "managed"
    # A guard failing for every permitted transition names the first permitted one's guard.
    engine, _ = start(TRIAGE, actor=BOB)
    refusal = refused(engine, BOB, "route")
    assert refusal.message == "“route” refused: condition not met: severity ≥ 3"
    refusal = refused(engine, manager, "route")
    assert refusal.message == "“route” refused: condition not met: severity is filled in"


def test_a_transition_the_actor_may_not_fire_does_not_stand_in_the_way() -> None:
    engine, _ = start(TRIAGE, actor=BOB, severity=4)
    refusal = refused(engine, BOB, "route")
    assert refusal.message == "“route” needs: reason"  # urgent requires a reason
    fire(engine, BOB, "route", reason="smoke")
    assert engine.record.state == "urgent"
    engine, _ = start(TRIAGE, actor=BOB, severity=1)
    fire(engine, BOB, "route")
    assert engine.record.state == "normal"


def test_the_engine_itself_skips_permissions_and_required_fields() -> None:
    engine, _ = start(TRIAGE, actor=BOB, severity=5)
    fire(engine, SYSTEM, "route")
    assert engine.record.state == "managed"  # the first transition: no permission applies to the engine
    engine = mini()
    out = fire(engine, SYSTEM, "accept")
    assert engine.record.state == "in_progress" and "assignee" not in engine.record.fields
    assert out.events[0].actor == "system:test"


def test_a_wildcard_source_is_every_state_that_is_not_final() -> None:
    engine, _ = start(TRIAGE, actor=BOB, severity=1, reason="r")
    fire(engine, SYSTEM, "route")
    fire(engine, BOB, "close")
    assert engine.record.state == "done" and engine.is_final
    refusal = refused(engine, BOB, "close")
    assert (
        refusal.message
        == "“close” is not possible while TST0000001 is “done” (only from: managed, new, normal, urgent)"
    )


# --- fire: applying a transition and entering a state -----------------------------------------------------


def test_a_transition_records_what_changed_and_enters_the_new_state() -> None:
    engine = mini()
    later = T0 + timedelta(seconds=2)
    out = fire(engine, BOB, "accept", later, comment="mine", assignee="bob", impact="2")
    assert actions(out) == ["transition"]
    event = out.events[0]
    assert (event.seq, event.at, event.actor, event.from_state, event.to_state, event.comment) == (
        3,
        later,
        "bob",
        "new",
        "in_progress",
        "mine",
    )
    assert event.details == {"trigger": "accept", "fields": {"assignee": "bob"}}  # impact was already 2
    assert (engine.record.state, engine.record.entered_state_at, engine.record.updated_at) == (
        "in_progress",
        later,
        later,
    )
    assert [n.template for n in out.notifications] == ["assigned"]


def test_values_sent_as_none_clear_the_field() -> None:
    engine = mini(plan="p")
    fire(engine, BOB, "accept", assignee="bob", plan=None)
    assert "plan" not in engine.record.fields


def test_a_priority_change_in_a_transition_retargets_the_clocks() -> None:
    engine = mini()
    out = fire(engine, BOB, "accept", T0 + timedelta(seconds=1), assignee="bob", impact="1", urgency="1")
    assert actions(out) == ["transition", "sla_retargeted"]
    assert out.events[1].details == {"sla": "resolution", "from_seconds": 20.0, "to_seconds": 4.0}
    assert engine.record.fields["priority"] == "1"


def test_entering_a_state_pauses_resumes_and_stops_clocks() -> None:
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    out = fire(engine, BOB, "wait", T0 + timedelta(seconds=5))
    assert actions(out) == ["transition", "sla_paused"]
    assert out.events[1].details == {"sla": "resolution", "breached": False, "consumed_seconds": 5.0}
    out = fire(engine, BOB, "resume", T0 + timedelta(seconds=50))
    assert actions(out) == ["transition", "sla_resumed"]
    out = fire(engine, BOB, "resolve", T0 + timedelta(seconds=52), resolution="fixed")
    assert actions(out) == ["transition", "sla_stopped"]
    assert out.events[1].details == {"sla": "resolution", "breached": False, "consumed_seconds": 7.0}


def test_entering_a_state_resets_its_timed_transitions() -> None:
    engine = mini()
    engine.record.timed_done = ["auto_close"]
    fire(engine, BOB, "accept", assignee="bob")
    assert engine.record.timed_done == []


# --- update_fields ----------------------------------------------------------------------------------------


def update(engine: ProcessEngine, actor: Actor, comment: str | None = None, **fields: object):  # type: ignore[no-untyped-def]
    return engine.update_fields(UpdateFieldsInput(actor=actor, fields=fields, comment=comment), T0)


def refused_update(engine: ProcessEngine, actor: Actor, **fields: object) -> Refusal:
    before = engine.record.model_copy(deep=True)
    with pytest.raises(Refusal) as checked:
        engine.check_update(UpdateFieldsInput(actor=actor, fields=fields))
    with pytest.raises(Refusal) as applied:
        update(engine, actor, **fields)
    assert checked.value.message == applied.value.message and engine.record == before
    return checked.value


def test_who_may_edit() -> None:
    refusal = refused_update(mini(), Actor(username="eve", roles=["approver"]), plan="x")
    assert (refusal.kind, refusal.message) == (
        "NotAllowed",
        "eve may not change fields of TST0000001: allowed for Agent, Administrator, the record's "
        "requester, the record's assignee, members of the assignment group",
    )
    update(mini(), ALICE, plan="x")  # the requester
    update(mini(), SYSTEM, plan="x")


def test_a_closed_record_cannot_change() -> None:
    engine, _ = start(TRIAGE, actor=BOB, severity=1, reason="r")
    fire(engine, BOB, "close")
    refusal = refused_update(engine, BOB, reason="again")
    assert (refusal.kind, refusal.message) == (
        "WrongState",
        "TST0000001 is “done”: a closed record cannot change",
    )


def test_values_readonly_fields_and_required_fields_when_editing() -> None:
    engine = mini()
    assert refused_update(engine, BOB, risk=7).errors == [
        {"path": "fields.risk", "message": "must be at most 5"}
    ]
    fire(engine, BOB, "accept", assignee="bob")
    refusal = refused_update(engine, BOB, assignee=None)
    assert (refusal.kind, refusal.message, refusal.errors) == (
        "MissingFields",
        "required while TST0000001 is “In progress”: Assignee",
        [{"path": "fields.assignee", "message": "required"}],
    )
    fire(engine, BOB, "submit", plan="p", backout_plan="b", risk=1)
    refusal = refused_update(engine, BOB, plan="q")
    assert (refusal.kind, refusal.message, refusal.errors) == (
        "InvalidFields",
        "read-only while TST0000001 is “Awaiting approval”: plan",
        [{"path": "fields.plan", "message": "read-only while TST0000001 is “Awaiting approval”"}],
    )
    assert update(engine, BOB, plan="p").events == []  # the same value is no change


def test_an_edit_records_what_changed_and_re_derives_the_priority() -> None:
    engine = mini(plan="p")
    out = update(engine, BOB, comment="more", plan="p", backout_plan="b")
    assert actions(out) == ["fields_changed"]
    assert (out.events[0].comment, out.events[0].details) == ("more", {"fields": {"backout_plan": "b"}})
    out = update(engine, BOB, impact="1", backout_plan=None)
    assert actions(out) == ["fields_changed", "priority_changed", "sla_retargeted"]
    assert out.events[0].details == {"fields": {"impact": "1", "backout_plan": None}}
    assert (out.events[1].actor, out.events[1].details) == ("system:priority", {"priority": "2"})
    assert "backout_plan" not in engine.record.fields


def test_a_comment() -> None:
    engine = mini()
    out = engine.comment(AddCommentInput(actor=ALICE, body="any news?"), T0)
    assert actions(out) == ["comment"] and out.events[0].comment == "any news?"
    assert engine.record.seq == 3


def test_the_machine_takes_the_transition_and_says_why_it_passed_over_the_others() -> None:
    machine = compiler.machine_for(TRIAGE.definition)
    route = [t for t in TRIAGE.definition.transitions if t.trigger == "route"]
    attempt = compiler.Attempt(admits=lambda perm: "agent" in perm.roles, fields={"severity": 1})
    assert compiler.ask(machine, "new", "route", attempt) is route[2]
    assert attempt.refused == [(route[0], "permission"), (route[1], "guard")] and attempt.permitted
    nobody = compiler.Attempt(admits=lambda perm: False, fields={"severity": 1})
    assert compiler.ask(machine, "new", "route", nobody) is None and not nobody.permitted
    assert compiler.ask(machine, "done", "route", nobody) is None  # not from this state
    assert compiler.sources_of(machine, "route") == ["new"] and compiler.sources_of(machine, "nope") is None


def test_refusals_speak_the_callers_language_and_name_things_by_their_labels() -> None:
    """A Chinese-speaking caller reads the same rules in Chinese; nothing internal (trigger, state or
    field keys) in either language where the definition gives a label."""
    lin = Actor(username="lin", roles=["agent"], language="zh")
    engine = mini()
    # mini.yaml's transitions have no labels: their triggers stand in.
    wrong = refused(engine, lin, "confirm")
    assert wrong.message == "TST0000001 处于“新建”，不能执行“confirm”（仅可从以下状态执行：已解决）"
    missing = refused(engine, lin, "accept")
    assert (missing.message, missing.errors) == (
        "执行“accept”需要填写：处理人",
        [{"path": "fields.assignee", "message": "必填"}],
    )
    invalid = refused_update(engine, lin, risk=7)
    assert invalid.errors == [{"path": "fields.risk", "message": "不能大于 5"}]
    eve = Actor(username="eve", roles=["approver"], language="zh")
    assert refused_update(mini(), eve, plan="x").message == (
        "eve 不能修改 TST0000001 的字段：仅处理人员、管理员、本记录的请求人、本记录的处理人、处理组成员可以修改"
    )
