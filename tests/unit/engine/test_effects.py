"""Effects of transitions and SLA thresholds, one kind at a time (tests/fixtures/effects.yaml)."""

from __future__ import annotations

from datetime import timedelta

from definitions.model import Effect
from tests.unit.engine.support import BOB, T0, actions, fire, fixture, start
from workflows.engine import CreateRequest, ProcessEngine
from workflows.engine.effects import Effects
from workflows.engine.notifications import Notifier
from workflows.engine.record import RecordContext
from workflows.engine.sla_clocks import SlaClocks

M1 = T0 + timedelta(minutes=1)


def started(**fields: object) -> ProcessEngine:
    engine, _ = start(fixture("effects.yaml"), actor=BOB, **fields)
    return engine


def test_set_substitutes_the_actor_the_time_a_field_or_nothing() -> None:
    engine = started(note="n")
    out = fire(engine, BOB, "start", M1)
    assert actions(out)[:2] == ["transition", "fields_set"]
    assert out.events[1].details == {
        "fields": {
            "started_by": "bob",
            "started_at": "2026-03-02T09:01:00+00:00",
            "note": None,
            "summary": "Printer on fire",
            "urgency": "1",
        },
        "by": "effect",
    }
    assert "note" not in engine.record.fields  # $clear


def test_a_set_that_changes_the_priority_retargets_the_clocks() -> None:
    out = fire(started(), BOB, "start", M1)
    assert out.events[2].action == "sla_retargeted"
    assert out.events[2].details == {"sla": "resolution", "from_seconds": 14400.0, "to_seconds": 7200.0}


def test_a_set_that_changes_nothing_records_nothing() -> None:
    engine = started()
    engine.record.fields.update(
        started_by="bob", started_at=M1.isoformat(), summary="Printer on fire", urgency="1"
    )
    out = fire(engine, BOB, "start", M1)
    assert "fields_set" not in actions(out)


def test_start_sla_and_stop_sla() -> None:
    engine = started()
    out = fire(engine, BOB, "start", M1)
    assert out.events[3].action == "sla_started"
    assert (out.events[3].actor, out.events[3].details) == ("bob", {"sla": "response", "breached": False})
    assert engine.record.slas["response"].status == "running"
    out = fire(engine, BOB, "park", M1 + timedelta(minutes=30))
    assert actions(out)[:3] == ["transition", "sla_paused", "sla_stopped"]
    assert out.events[2].details == {"sla": "response", "breached": True}  # 30 of 20 minutes
    # Stopping a stopped clock is no event.
    fire(engine, BOB, "unpark")
    assert "sla_stopped" not in actions(fire(engine, BOB, "park"))


def test_create_record_asks_for_a_linked_record() -> None:
    out = fire(started(), BOB, "start", M1)
    assert out.creates == [
        CreateRequest(
            "effects",
            "Follow-up of TST0000001",
            {"summary": "Printer on fire", "started_by": "bob"},
            "child",
            "child",
        ),
        CreateRequest("effects", "TST0000001: Printer on fire", {}, None, None),  # the default title
    ]


def test_a_created_record_is_linked_back() -> None:
    engine = started()
    out = fire(engine, BOB, "start", M1)
    more = engine.linked_created(out.creates[0], "child-1", "EFF0000002", M1)
    assert actions(more) == ["linked_record_created"]
    assert (more.events[0].actor, more.events[0].details) == (
        "system:link",
        {"record": "child-1", "number": "EFF0000002", "definition": "effects"},
    )
    assert engine.record.links == [
        {"id": "child-1", "number": "EFF0000002", "definition": "effects", "role": "child"}
    ]
    assert engine.record.fields["child"] == "child-1"
    engine.linked_created(out.creates[1], "child-2", "EFF0000003", M1)
    assert engine.record.fields["child"] == "child-1" and len(engine.record.links) == 2


def test_reassign_drops_the_assignee_and_only_records_a_change() -> None:
    engine = started(assignee="ann", assignment_group="desk")
    out = fire(engine, BOB, "start", M1)
    reassigned = out.events[-1]
    assert (reassigned.action, reassigned.details) == ("reassigned", {"from": "desk", "to": "l2-team"})
    assert "assignee" not in engine.record.fields
    engine = started(assignee="ann", assignment_group="l2-team")
    assert "reassigned" not in actions(fire(engine, BOB, "start", M1))
    assert engine.record.fields["assignee"] == "ann"


def test_escalate_raises_the_level_one_step_and_assigns_its_group() -> None:
    engine = started()
    fire(engine, BOB, "start", M1)
    out = fire(engine, BOB, "park", M1)
    assert out.events[-1].action == "escalated"
    assert out.events[-1].details == {
        "field": "support_level",
        "from": "L1",
        "to": "L2",
        "assignment_group": "l2-team",
    }
    fire(engine, BOB, "unpark", M1)
    out = fire(engine, BOB, "park", M1)
    assert (
        engine.record.fields["support_level"] == "L3"
        and engine.record.fields["assignment_group"] == "l3-team"
    )
    fire(engine, BOB, "unpark", M1)
    assert "escalated" not in actions(fire(engine, BOB, "park", M1))  # the top level


def test_threshold_actions_run_in_order_and_a_refused_fire_is_recorded_as_skipped() -> None:
    engine = started()
    fire(engine, BOB, "start", M1)
    half = T0 + timedelta(hours=1)  # 50 % of the 2 h target, which started at T0 (retargeted at M1)
    out = engine.on_timers(half)
    assert [(e.action, e.actor) for e in out.events] == [
        ("sla_threshold", "system:sla"),  # the response clock's breach, due at 09:21
        ("sla_threshold", "system:sla"),
        ("reassigned", "system:sla:resolution"),
    ]
    [note] = out.notifications
    assert [r.name for r in note.recipients] == ["l3-team"]  # the new group: actions run in order
    out = engine.on_timers(T0 + timedelta(hours=2))
    assert actions(out) == [
        "sla_threshold",
        "escalated",
        "action_skipped",
        "transition",
        "sla_stopped",
        "sla_stopped",
    ]
    assert out.events[2].details == {
        "fire": "withdraw",
        "reason": "“withdraw” is not possible while TST0000001 is “working” (only from: new)",
    }
    assert (out.events[3].actor, out.events[3].to_state) == ("system:sla:resolution", "closed")
    assert engine.record.state == "closed"


def test_every_kind_of_effect_has_a_handler() -> None:
    engine = started()
    ctx = RecordContext(engine.pinned, engine.record)
    effects = Effects(ctx, Notifier(ctx), SlaClocks(ctx), engine)
    assert set(effects.handlers) == set(Effect.model_fields)
