"""Creating a record: who may start one, its first field values, and its first state."""

from __future__ import annotations

import pytest

from tests.unit.engine.support import ALICE, BOB, SYSTEM, T0, actions, fixture, inline, start
from workflows.contracts import UpdateFieldsInput
from workflows.engine import Refusal

STATE_REQUIRED = inline(
    """
key: needs
title: Needs
number_prefix: NED
owner: process_owner
start_roles: [agent]
fields:
  - {name: code, type: int, min: 1, max: 9}
states:
  - {name: open, category: open, required: [code]}
  - {name: done, category: closed, final: true}
transitions:
  - {trigger: finish, from: open, to: done, allowed: {roles: [agent]}}
"""
)


def test_a_record_starts_in_the_initial_state_with_defaults_derived_priority_and_running_clocks() -> None:
    engine, out = start(fixture("mini.yaml"), impact="2", urgency="2")
    record = engine.record
    assert (record.state, record.created_at, record.updated_at, record.entered_state_at) == (
        "new",
        T0,
        T0,
        T0,
    )
    assert record.fields == {
        "support_level": "L1",  # the field's default
        "title": "Printer on fire",
        "requester": "alice",
        "impact": "2",
        "urgency": "2",
        "priority": "3",  # impact x urgency
    }
    assert actions(out) == ["created", "sla_started"]
    created, started = out.events
    assert (created.seq, created.actor, created.from_state, created.to_state) == (1, "alice", None, "new")
    assert created.details == {"definition": "mini", "version": 1, "fields": record.fields}
    assert (started.seq, started.actor) == (2, "system:sla")
    assert started.details == {"sla": "resolution", "breached": False, "consumed_seconds": 0.0}
    assert record.seq == 2
    clock = record.slas["resolution"]
    assert (clock.status, clock.target_seconds, clock.calendar, clock.started_at) == (
        "running",
        20.0,
        "always",
        T0,
    )
    assert out.notifications == [] and out.resolves == [] and out.creates == []


def test_a_linked_record_names_its_parent() -> None:
    _, out = start(fixture("notify.yaml"), parent_id="parent-1")
    assert out.events[0].details["parent"] == "parent-1"


def test_a_system_start_has_no_requester() -> None:
    engine, _ = start(fixture("notify.yaml"), actor=SYSTEM)
    assert "requester" not in engine.record.fields


def test_only_start_roles_may_start() -> None:
    with pytest.raises(Refusal) as info:
        start(STATE_REQUIRED, actor=ALICE, code=1)
    assert info.value.kind == "NotAllowed"
    assert info.value.message == "only Agent may start a Needs record"


def test_required_fields_of_the_definition_and_of_the_initial_state() -> None:
    with pytest.raises(Refusal) as info:
        start(fixture("mini.yaml"), urgency="1")
    assert (info.value.kind, info.value.message) == ("MissingFields", "missing required field(s): Impact")
    assert info.value.errors == [{"path": "fields.impact", "message": "required"}]
    with pytest.raises(Refusal) as info:
        start(STATE_REQUIRED, actor=BOB)
    assert (info.value.kind, info.value.message) == ("MissingFields", "missing required field(s): code")
    engine, _ = start(STATE_REQUIRED, actor=BOB, code="3")
    assert engine.record.fields["code"] == 3  # normalised to its type


def test_field_values_are_checked_against_their_types() -> None:
    with pytest.raises(Refusal) as info:
        start(fixture("mini.yaml"), impact="7", urgency="1", colour="red")
    assert info.value.kind == "InvalidFields"
    assert info.value.errors == [
        {"path": "fields.impact", "message": "must be one of 1, 2; got '7'"},
        {"path": "fields.colour", "message": "unknown field 'colour'"},
    ]
    assert info.value.message == "Impact: must be one of 1, 2; got '7'; unknown field 'colour'"


def test_a_field_given_as_none_is_left_out() -> None:
    engine, _ = start(fixture("mini.yaml"), impact="1", urgency="1", plan=None)
    assert "plan" not in engine.record.fields and engine.record.fields["priority"] == "1"


def test_an_event_never_changes_when_the_record_changes_later() -> None:
    """The created event names the fields as they were; the record's later edits are new events.
    (An event is re-sent to the read model until it is sealed: an alias of the live fields made the
    stored row change, and the write replace it, on every record.)"""
    engine, out = start(fixture("mini.yaml"), impact="2", urgency="2")
    said = [e.model_dump(mode="json") for e in out.events]
    later = engine.update_fields(UpdateFieldsInput(actor=ALICE, fields={"plan": "x", "impact": "1"}), T0)
    assert later.events and [e.model_dump(mode="json") for e in out.events] == said
