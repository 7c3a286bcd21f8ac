"""Read views: what an actor may do next (`available`), how a field is described (`field_spec`), and the
record as the API and the read model see it (`snapshot`)."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.engine.support import ALICE, BOB, CAB, T0, answer_resolves, fire, inline, mini, start
from workflows.contracts import AvailableTransition, FieldSpec

VIEWS = inline(
    """
key: views
title: Views
number_prefix: VIE
owner: process_owner
fields:
  - {name: kind, type: enum, values: [hw, sw], label: {zh: 类别, en: Kind}}
  - {name: cost, type: int}
  - {name: secret, type: text}
states:
  - {name: new, category: new, label: {zh: 新建, en: New}, hidden: [secret], readonly: [kind]}
  - {name: done, category: closed, final: true, required: [cost]}
  - {name: dropped, category: closed, final: true}
transitions:
  - trigger: finish
    from: new
    to: done
    label: {zh: 完成, en: Finish}
    allowed: {roles: [agent]}
    required_fields: [kind]
    guard: {field: kind, op: eq, value: hw}
  - trigger: finish
    from: new
    to: dropped
    allowed: {roles: [agent]}
    guard: {field: kind, op: eq, value: sw}
  - trigger: drop
    from: new
    to: dropped
    allowed: {roles: [agent]}
    comment_required: true
  - trigger: audit
    from: new
    to: dropped
    allowed: {roles: [agent]}
    guard: {field: cost, op: gt, value: 100}
  - {trigger: expire, from: new, to: dropped}
"""
)


def test_available_lists_each_trigger_the_actor_may_fire_once() -> None:
    engine, _ = start(VIEWS, actor=BOB)
    assert engine.available(BOB) == [
        # The guard reads a field the actor is asked for: offered, the guard is checked when fired.
        AvailableTransition(
            trigger="finish",
            to="done",
            label={"zh": "完成", "en": "Finish"},
            required_fields=[
                FieldSpec(
                    name="kind",
                    type="enum",
                    required=True,
                    values=["hw", "sw"],
                    label={"zh": "类别", "en": "Kind"},
                ),
                FieldSpec(name="cost", type="int", required=True),  # the target state's
            ],
        ),
        AvailableTransition(trigger="drop", to="dropped", comment_required=True),
        # audit: its guard fails on fields nobody is asked for; expire: the engine's own.
    ]
    assert engine.available(ALICE) == []
    engine.record.fields["cost"] = 500
    assert [a.trigger for a in engine.available(BOB)] == ["finish", "drop", "audit"]


def test_available_follows_the_state_and_relations() -> None:
    engine = mini()
    assert [a.trigger for a in engine.available(BOB)] == ["accept"]
    fire(engine, BOB, "accept", assignee="bob")
    assert [a.trigger for a in engine.available(BOB)] == ["wait", "resolve"]
    assert engine.available(ALICE) == []


def test_field_spec() -> None:
    engine, _ = start(VIEWS, actor=BOB)
    assert engine.field_spec("kind", required=False) == FieldSpec(
        name="kind", type="enum", values=["hw", "sw"], label={"zh": "类别", "en": "Kind"}
    )
    assert engine.field_spec("assignee", required=True) == FieldSpec(
        name="assignee", type="user", required=True
    )
    assert engine.field_spec("unknown", required=False) == FieldSpec(name="unknown", type="string")


def test_the_snapshot_of_a_record() -> None:
    engine = mini(builder="dave")
    fire(engine, BOB, "accept", assignee="bob")
    out = fire(engine, BOB, "submit", T0 + timedelta(seconds=1), plan="p", backout_plan="b", risk=1)
    answer_resolves(engine, out, CAB, T0)
    snap = engine.snapshot(BOB, T0 + timedelta(seconds=5))
    assert (snap.id, snap.number, snap.definition, snap.definition_version) == (
        "rec1",
        "TST0000001",
        "mini",
        1,
    )
    assert snap.definition_hash == engine.pinned.hash and snap.definition_hash.startswith("sha256:")
    assert (snap.title, snap.state, snap.state_category, snap.final) == (
        "Printer on fire",
        "approval",
        "open",
        False,
    )
    assert snap.state_label == {"zh": "审批中", "en": "Awaiting approval"}
    assert (snap.priority, snap.requester, snap.assignee, snap.assignment_group) == (
        "3",
        "alice",
        "bob",
        None,
    )
    assert snap.fields == engine.record.fields and snap.fields is not engine.record.fields
    assert (snap.created_at, snap.updated_at, snap.seq) == (T0, T0, engine.record.seq)
    [sla] = snap.slas
    assert (sla.name, sla.state, sla.target, sla.elapsed, sla.remaining, sla.elapsed_percent) == (
        "resolution",
        "running",
        "PT20S",
        "PT5S",
        "PT15S",
        25.0,
    )
    assert sla.due_at == T0 + timedelta(seconds=20)
    assert snap.approvals == engine.record.approvals and snap.approvals[0] is not engine.record.approvals[0]
    assert (snap.readonly_fields, snap.hidden_fields, snap.links) == (["plan"], [], [])
    assert snap.available_transitions == []  # approve and reject are the engine's
    assert engine.snapshot(None, T0).available_transitions == []


def test_a_snapshot_shows_what_the_state_hides_and_freezes() -> None:
    engine, _ = start(VIEWS, actor=BOB, secret="s")
    snap = engine.snapshot(BOB, T0)
    assert (snap.hidden_fields, snap.readonly_fields, snap.priority) == (["secret"], ["kind"], None)
    assert [a.trigger for a in snap.available_transitions] == ["finish", "drop"]
    fire(engine, BOB, "drop", comment="no longer needed")
    snap = engine.snapshot(BOB, T0)
    assert (snap.state, snap.final, snap.state_label) == ("dropped", True, None)
    assert engine.is_final
