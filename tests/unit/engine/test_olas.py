"""Operational-level clocks (OLAs) of a service level agreement on the pure engine: per support group,
restarting when the record moves to another group; the clock views name the agreement and the target
they run on; the first response is kept (docs/sla.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from definitions.calendar import BusinessCalendar
from tests.unit.engine.support import BOB, T0, actions, fire, fixture, start
from workflows.agreements import SelectAgreementResult, applied
from workflows.contracts import UpdateFieldsInput
from workflows.engine import ProcessEngine

AGREEMENT = SelectAgreementResult(
    key="erp",
    version=2,
    targets={p: {"response_minutes": 15, "resolution_minutes": 60 * int(p)} for p in ("1", "2", "3")},
    calendar=BusinessCalendar(always=True, timezone="UTC"),
    olas={
        "net": {"response_minutes": 5, "resolution_minutes": 10},
        "db": {"response_minutes": 10, "resolution_minutes": 30},
    },
)
M5 = T0 + timedelta(minutes=5)


def on_agreement(**fields: Any) -> ProcessEngine:
    pinned = applied(fixture("mini.yaml"), AGREEMENT, olas=True)
    engine, _ = start(pinned, impact="2", urgency="2", **fields)
    for clock in engine.record.slas.values():  # what workflows/agreements.py notes after creating
        clock.agreement, clock.agreement_version = "erp", 2
    return engine


def edit(engine: ProcessEngine, at: object, **fields: object) -> list[str]:
    out = engine.update_fields(UpdateFieldsInput(actor=BOB, fields=fields), at)  # type: ignore[arg-type]
    return actions(out)


def view(engine: ProcessEngine, name: str, at: object = M5) -> dict[str, object]:
    snap = engine.snapshot(None, at)  # type: ignore[arg-type]
    return next(s for s in snap.slas if s.name == name).model_dump()


def test_without_olas_no_operational_clock_is_added() -> None:
    pinned = applied(fixture("mini.yaml"), AGREEMENT, olas=False)
    assert [s.name for s in pinned.definition.slas] == ["resolution"]


def test_the_group_clock_runs_on_its_group_target_and_restarts_in_the_next_group() -> None:
    engine = on_agreement(assignment_group="net")
    ola = engine.record.slas["ola_resolution"]
    assert (ola.status, ola.target_seconds, ola.target_key) == ("running", 600.0, "net")
    assert edit(engine, M5, assignment_group="db") == ["fields_changed", "sla_restarted"]
    restarted = engine.record.slas["ola_resolution"]
    assert (restarted.status, restarted.target_seconds, restarted.target_key) == ("running", 1800.0, "db")
    assert restarted.started_at == M5 and restarted.consumed_seconds == 0
    # The agreement's own clock is the customer's: a move between groups does not touch it.
    assert engine.record.slas["resolution"].started_at == T0
    shown = view(engine, "ola_resolution", M5 + timedelta(minutes=3))
    assert shown["ola"] is True and shown["target_key"] == "db" and shown["agreement"] == "erp"
    assert shown["elapsed"] == "PT3M" and shown["target"] == "PT30M"
    customer = view(engine, "resolution")
    assert (customer["ola"], customer["target_field"], customer["target_key"]) == (False, "priority", "3")
    assert (customer["agreement"], customer["agreement_version"]) == ("erp", 2)


def test_the_restart_is_audited_with_what_the_group_left_used() -> None:
    engine = on_agreement(assignment_group="net")
    out = engine.update_fields(
        UpdateFieldsInput(actor=BOB, fields={"assignment_group": "db"}), T0 + timedelta(minutes=12)
    )
    (event,) = [e for e in out.events if e.action == "sla_restarted"]
    assert event.details == {
        "sla": "ola_resolution",
        "from_group": "net",
        "to_group": "db",
        "consumed_seconds": 720.0,
        "breached": True,  # 12 minutes against net's 10
    }
    assert engine.record.slas["ola_resolution"].breached is False  # db's clock starts clean


def test_a_group_without_an_ola_leaves_the_clock_waiting_for_one_that_has() -> None:
    engine = on_agreement(assignment_group="desk")
    assert engine.record.slas["ola_resolution"].status == "pending"
    assert edit(engine, M5, assignment_group="net") == ["fields_changed", "sla_started"]
    assert engine.record.slas["ola_resolution"].target_key == "net"


def test_a_move_while_waiting_starts_the_new_group_when_work_resumes() -> None:
    engine = on_agreement(assignment_group="net")
    fire(engine, BOB, "accept", T0 + timedelta(minutes=1), assignee="bob")
    fire(engine, BOB, "wait", T0 + timedelta(minutes=2))
    assert engine.record.slas["ola_resolution"].status == "paused"
    edit(engine, T0 + timedelta(minutes=3), assignment_group="db")
    assert engine.record.slas["ola_resolution"].status == "pending"  # type: ignore[comparison-overlap]
    out = fire(engine, BOB, "resume", T0 + timedelta(minutes=4))
    assert "sla_started" in actions(out)
    clock = engine.record.slas["ola_resolution"]
    assert (clock.status, clock.target_key, clock.started_at) == ("running", "db", T0 + timedelta(minutes=4))


def test_an_escalation_to_another_group_restarts_the_group_clock() -> None:
    engine = on_agreement(assignment_group="net")
    # The agreement's priority-3 resolution target (3 h) breaches: mini.yaml escalates to l2-team.
    out = engine.on_timers(T0 + timedelta(hours=3))
    assert "escalated" in actions(out) and "sla_restarted" in actions(out)
    assert engine.record.fields["assignment_group"] == "l2-team"
    assert engine.record.slas["ola_resolution"].status == "pending"  # l2-team has no OLA here


def test_the_first_response_is_when_the_record_first_leaves_its_initial_state() -> None:
    engine, _ = start(fixture("mini.yaml"), impact="2", urgency="2")
    assert engine.record.responded_at is None
    fire(engine, BOB, "accept", M5, assignee="bob")
    fire(engine, BOB, "wait", M5 + timedelta(minutes=1))
    fire(engine, BOB, "resume", M5 + timedelta(minutes=2))
    assert engine.record.responded_at == M5
    assert engine.snapshot(None, M5).responded_at == M5
