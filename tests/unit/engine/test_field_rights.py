"""Field rights: the language (`field_rights`, validated with paths) and the engine's check of every change
a person makes (edits and values sent with a transition), separation of duties' protected fields first,
each refusal naming its rule in the caller's language."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from definitions.loader import from_data
from tests.unit.engine.support import CAB, SYSTEM, T0, answer_resolves, inline, start
from workflows.contracts import (
    Actor,
    DecideApprovalInput,
    FireTransitionInput,
    StartProcessInput,
    UpdateFieldsInput,
)
from workflows.engine import ProcessEngine, Refusal

SOURCE = """
key: works
title: Works
number_prefix: WRK
owner: process_owner
roles:
  works_manager: {zh: 工程经理, en: Works manager}
fields:
  - {name: plan, type: text, label: {zh: 方案, en: Plan}}
  - {name: implementer, type: user, label: {zh: 实施人, en: Implementer}}
  - {name: budget, type: int, label: {zh: 预算, en: Budget}}
  - {name: notes, type: text}
states:
  - {name: new, category: new, label: {zh: 新建, en: New}}
  - {name: review, category: open, label: {zh: 审批中, en: In review}}
  - {name: doing, category: open, label: {zh: 实施中, en: Doing}}
  - {name: done, category: closed, final: true}
field_rights:
  - fields: [implementer]
    editors: {roles: [works_manager]}
    label: {zh: 实施人由工程经理指定, en: the works manager names the implementer}
  - fields: [budget]
    states: [new]
    editors: {relations: [requester]}
  - fields: [budget]
    states: [review, doing]
    editors: {roles: [works_manager], relations: [field:implementer]}
transitions:
  - trigger: submit
    from: new
    to: review
    allowed: {relations: [requester], roles: [works_manager]}
    required_fields: [plan, implementer]
  - {trigger: approve, from: review, to: doing}
  - {trigger: reject, from: review, to: done}
  - trigger: finish
    from: doing
    to: done
    allowed: {relations: [field:implementer]}
approvals:
  - name: board
    label: {zh: 委员会审批, en: Board approval}
    state: review
    levels: [{name: board, approvers: {groups: [cab]}, policy: any}]
    separation_of_duties: {exclude: [requester, field:implementer]}
    on_approved: approve
    on_rejected: reject
"""
WORKS = inline(SOURCE)

ALICE = Actor(username="alice", roles=["requester"])
ALICE_ZH = Actor(username="alice", roles=["requester"], language="zh")
MARK = Actor(username="mark", roles=["agent", "works_manager"])
BOB = Actor(username="bob", roles=["agent"])
CAROL = Actor(username="carol", roles=["approver", "agent"], groups=["cab"])
ADMIN_ALICE = Actor(username="alice", roles=["admin"])


def record(**fields: Any) -> ProcessEngine:
    engine, _ = start(WORKS, actor=ALICE, **fields)
    return engine


def edit(engine: ProcessEngine, actor: Actor, **fields: Any) -> None:
    engine.update_fields(UpdateFieldsInput(actor=actor, fields=fields), T0)


def fire(engine: ProcessEngine, actor: Actor, trigger: str, **fields: Any) -> None:
    out = engine.fire(FireTransitionInput(actor=actor, trigger=trigger, fields=fields), T0)
    answer_resolves(engine, out, CAB, T0)


def refusal(call: Any) -> Refusal:
    with pytest.raises(Refusal) as info:
        call()
    return info.value


# --- the language ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"fields": ["implementr"], "editors": {"roles": ["agent"]}},
            "field_rights[0].fields[0]: unknown field",
        ),
        (
            {"fields": ["plan"], "states": ["nowhere"], "editors": {"roles": ["agent"]}},
            "field_rights[0].states[0]",
        ),
        ({"fields": ["plan"], "states": ["done"], "editors": {"roles": ["agent"]}}, "final state"),
        ({"fields": ["plan"], "editors": {}}, "field_rights[0].editors: empty"),
        (
            {"fields": ["plan"], "editors": {"roles": ["boss"]}},
            "field_rights[0].editors.roles[0]: unknown role",
        ),
        ({"fields": ["plan"], "editors": {"relations": ["owner"]}}, "field_rights[0].editors.relations[0]"),
        ({"fields": ["plan"], "editors": {"relations": ["field:plan"]}}, "field 'plan' is a text field"),
        (
            {"fields": [], "editors": {"roles": ["agent"]}},
            "field_rights[0].fields: List should have at least 1 item",
        ),
    ],
)
def test_bad_rules_are_reported_with_their_path(rule: dict[str, Any], expected: str) -> None:
    data = yaml.safe_load(SOURCE)
    data["field_rights"] = [rule]
    found = [str(i) for i in from_data(data).issues]
    assert any(expected in f for f in found), found


# --- the rules ----------------------------------------------------------------------------------------
def test_a_rule_replaces_editors_for_its_field_and_admits_who_it_names() -> None:
    engine = record(plan="dig")
    refused = refusal(lambda: edit(engine, BOB, implementer="bob"))
    assert refused.kind == "NotAllowed"
    assert refused.message == (
        "bob may not change Implementer of TST0000001: only Works manager may "
        "(rule “the works manager names the implementer”)"
    )
    assert refused.errors == [{"path": "fields.implementer", "message": refused.message}]
    assert engine.record.fields.get("implementer") is None  # nothing changed
    edit(engine, MARK, implementer="bob")
    assert engine.record.fields["implementer"] == "bob"
    edit(engine, BOB, notes="fine")  # no rule: the definition's editors (agents) decide


def test_the_refusal_is_in_the_callers_language() -> None:
    engine = record()
    zh = refusal(lambda: edit(engine, ALICE_ZH, implementer="bob"))
    assert (
        zh.message == "alice 不能修改 TST0000001 的实施人：仅工程经理可以修改（规则「实施人由工程经理指定」）"
    )


def test_rules_follow_the_state() -> None:
    engine = record(plan="dig")
    edit(engine, ALICE, budget=10)  # new: the requester
    fire(engine, MARK, "submit", implementer="bob")
    assert engine.record.state == "review"
    refused = refusal(lambda: edit(engine, ALICE, budget=20))
    assert refused.kind == "NotAllowed" and "in state “In review”" in refused.message
    assert "Works manager, the record's Implementer" in refused.message
    edit(engine, MARK, budget=20)


def test_values_sent_with_a_transition_are_bound_by_the_same_rules() -> None:
    engine = record(plan="dig")
    refused = refusal(lambda: fire(engine, ALICE, "submit", implementer="alice"))
    assert refused.kind == "NotAllowed" and "Implementer" in refused.message
    assert engine.record.state == "new" and "implementer" not in engine.record.fields
    edit(engine, MARK, implementer="bob")
    fire(engine, ALICE, "submit", implementer="bob", plan="dig")  # the same value again is no change
    assert engine.record.state == "review"


def test_the_engine_itself_is_not_bound() -> None:
    engine = record()
    edit(engine, SYSTEM, implementer="bob")
    assert engine.record.fields["implementer"] == "bob"


def test_a_creator_may_set_only_what_the_rules_let_them() -> None:
    refused = refusal(lambda: start(WORKS, actor=ALICE, implementer="alice"))
    assert refused.kind == "NotAllowed" and "Implementer" in refused.message
    engine, _ = start(WORKS, actor=MARK, implementer="bob")
    assert engine.record.fields["implementer"] == "bob"
    # A record another record creates carries its definition's values, not a person's choice.
    linked = StartProcessInput(
        record_id="r2", number="WRK0000002", definition=WORKS, actor=ALICE, title="t",
        fields={"implementer": "alice"}, parent_id="r1",
    )  # fmt: skip
    engine, _ = ProcessEngine.create(linked, T0)
    assert engine.record.fields["implementer"] == "alice"


# --- separation of duties ----------------------------------------------------------------------------
def test_the_implementer_cannot_clear_or_change_the_implementer_field() -> None:
    engine = record(plan="dig")
    edit(engine, MARK, implementer="bob")
    bob_manager = Actor(username="bob", roles=["agent", "works_manager"])  # rights would admit him
    for value in (None, "zed"):
        refused = refusal(lambda v=value: edit(engine, bob_manager, implementer=v))
        assert refused.kind == "SeparationOfDuties"
        assert refused.message == (
            "separation of duties: bob may not change Implementer of TST0000001: it names them, and "
            "separation of duties in Board approval excludes whoever it names"
        )
    refused = refusal(lambda: fire(engine, bob_manager, "submit", implementer="zed"))
    assert refused.kind == "SeparationOfDuties" and engine.record.state == "new"
    assert engine.record.fields["implementer"] == "bob"
    edit(engine, MARK, implementer="zed")  # anyone else the rules admit may


def test_the_requester_cannot_rename_the_requester_even_as_admin() -> None:
    engine, _ = start(WORKS, actor=ADMIN_ALICE)
    refused = refusal(lambda: edit(engine, ADMIN_ALICE, requester="bob"))
    assert refused.kind == "SeparationOfDuties" and "Requester" in refused.message
    zh = Actor(username="alice", roles=["admin"], language="zh")
    assert refusal(lambda: edit(engine, zh, requester="bob")).message.startswith("职责分离：alice 不能修改")
    edit(engine, Actor(username="root", roles=["admin"]), requester="bob")
    assert engine.record.fields["requester"] == "bob"


def test_who_decided_an_approval_cannot_become_the_person_it_excludes() -> None:
    engine = record(plan="dig")
    fire(engine, MARK, "submit", implementer="bob")
    task = engine.record.approvals[-1]
    assert "carol" in task.eligible
    engine.decide(DecideApprovalInput(actor=CAROL, approval_id=task.id, decision="approve"), T0)
    assert engine.record.state == "doing"
    carol_manager = Actor(username="carol", roles=["works_manager"], groups=["cab"])
    refused = refusal(lambda: edit(engine, carol_manager, implementer="carol"))
    assert refused.kind == "SeparationOfDuties" and "decided Board approval" in refused.message
    edit(engine, MARK, implementer="zed")


# --- what the views say ---------------------------------------------------------------------------------
def test_views_say_which_fields_the_caller_may_change() -> None:
    engine = record(plan="dig")
    assert "implementer" not in engine.editable(ALICE) and "budget" in engine.editable(ALICE)
    assert "requester" not in engine.editable(ALICE)  # protected from the person it names
    assert "implementer" in engine.editable(MARK) and "budget" not in engine.editable(MARK)
    submit = next(t for t in engine.available(ALICE) if t.trigger == "submit")
    assert {f.name: f.editable for f in submit.required_fields} == {"plan": True, "implementer": False}
    assert engine.snapshot(ALICE, T0).editable_fields == engine.editable(ALICE)
    assert engine.snapshot(None, T0).editable_fields == []
    assert engine.editable(Actor(username="nobody")) == []
