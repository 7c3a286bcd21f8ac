"""Timers: SLA thresholds, alarms (a notify-only threshold handed out ahead), approval timers and timed
transitions, all as absolute instants; the workflow sleeps until the earliest and fires what is due."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.engine.support import (
    ALICE,
    BOB,
    CAB,
    T0,
    actions,
    answer_resolves,
    fire,
    fixture,
    mini,
    start,
)
from workflows.contracts import UpdateFieldsInput
from workflows.engine import DeadlineTimer, ReminderTimer, SlaTimer, TransitionTimer


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_a_clock_wakes_the_record_at_its_next_threshold() -> None:
    engine = mini()  # priority 3: 20 s; thresholds at 75 % (notify) and 100 % (escalate)
    assert engine.next_wakeup() == T0 + s(15)
    assert engine.on_timers(T0 + s(14)).events == []  # nothing due yet


def test_a_threshold_fires_once_with_its_notifications_keyed() -> None:
    engine = mini()
    fire(engine, BOB, "accept", T0 + s(1), assignee="bob")
    out = engine.on_timers(T0 + s(15))
    assert actions(out) == ["sla_threshold"]
    assert (out.events[0].at, out.events[0].actor, out.events[0].details) == (
        T0 + s(15),
        "system:sla",
        {"sla": "resolution", "at_percent": 75.0, "breached": False},
    )
    [note] = out.notifications
    assert note.key == "sla:resolution:75:2026-03-02T09:00:15+00:00:0"
    assert [r.name for r in note.recipients] == ["bob"]  # the assignee; no assignment group: no lead
    assert (note.context["sla"], note.context["threshold"], note.context["due_at"]) == (
        "resolution",
        "75%",
        "2026-03-02T09:00:20+00:00",
    )
    assert engine.record.slas["resolution"].fired == [75.0]
    assert engine.on_timers(T0 + s(16)).events == []
    assert engine.next_wakeup() == T0 + s(20)


def test_the_breach_runs_its_effects() -> None:
    engine = mini()
    out = engine.on_timers(T0 + s(30))  # both thresholds, each at its own instant
    assert actions(out) == ["sla_threshold", "sla_threshold", "escalated"]
    assert [e.at for e in out.events] == [T0 + s(15), T0 + s(20), T0 + s(20)]
    assert out.events[1].details == {"sla": "resolution", "at_percent": 100.0, "breached": True}
    assert engine.record.slas["resolution"].breached
    assert (engine.record.fields["support_level"], engine.record.fields["assignment_group"]) == (
        "L2",
        "l2-team",
    )
    assert out.notifications == []  # the 75 % warning had nobody to tell yet
    assert engine.next_wakeup() is None


def test_pausing_moves_the_deadlines() -> None:
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    fire(engine, BOB, "wait", T0 + s(5))
    assert engine.next_wakeup() is None  # a paused clock has no deadline
    fire(engine, BOB, "resume", T0 + s(105))
    assert engine.next_wakeup() == T0 + s(115)


def test_a_new_priority_moves_the_deadlines() -> None:
    engine = mini()
    engine.update_fields(UpdateFieldsInput(actor=ALICE, fields={"impact": "1", "urgency": "1"}), T0 + s(1))
    assert engine.next_wakeup() == T0 + s(3)  # 75 % of 4 s


def test_an_alarm_is_the_next_threshold_when_it_only_notifies() -> None:
    engine = mini()
    assert engine.next_alarm() is None  # its notification has nobody to go to yet
    fire(engine, BOB, "accept", T0 + s(1), assignee="bob")
    alarm = engine.next_alarm()
    assert alarm is not None
    assert (alarm.at, alarm.seq, alarm.key) == (T0 + s(15), 3, "2026-03-02T09:00:15+00:00@3")
    [note] = alarm.notifications
    assert note.key == "sla:resolution:75:2026-03-02T09:00:15+00:00:0"
    assert engine.record.seq == 3  # an alarm is only a question: nothing changed
    # The timer after the alarm's own: none, a clock's next threshold is due only once this one fired.
    assert engine.next_wakeup(after_alarm=True) is None
    fire(engine, BOB, "resolve", T0 + s(2), resolution="fixed")
    fire(engine, ALICE, "reopen", T0 + s(3), comment="again")
    assert engine.next_wakeup() == T0 + s(16) and engine.next_wakeup(after_alarm=True) is None
    engine.on_timers(T0 + s(16))
    assert engine.next_alarm() is None  # the breach escalates: it must run in the workflow


def test_an_alarm_is_only_the_very_next_timer() -> None:
    engine, _ = start(fixture("approval_deadline.yaml"))
    assert engine.next_alarm() is None  # no clocks at all
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    fire(engine, BOB, "resolve", T0 + s(1), resolution="fixed")
    assert engine.next_alarm() is None  # the clock stopped; a timed transition is next


def test_a_timed_transition_fires_once_after_entering_its_state() -> None:
    engine = mini()
    fire(engine, BOB, "accept", assignee="bob")
    fire(engine, BOB, "resolve", T0 + s(1), resolution="fixed")
    assert engine.next_wakeup() == T0 + s(4)
    out = engine.on_timers(T0 + s(10))
    assert [(e.action, e.actor, e.at, e.to_state) for e in out.events] == [
        ("transition", "system:timer", T0 + s(4), "closed")
    ]
    assert engine.is_final and engine.next_wakeup() is None


def test_a_refused_timed_transition_is_skipped_until_the_state_is_entered_again() -> None:
    engine, _ = start(fixture("effects.yaml"), actor=BOB)
    fire(engine, BOB, "start")
    fire(engine, BOB, "finish", T0 + timedelta(minutes=2))
    engine.record.fields["note"] = "open question"
    assert engine.next_wakeup() == T0 + timedelta(minutes=20)  # the response clock's breach first
    out = engine.on_timers(T0 + timedelta(hours=2))
    assert actions(out) == ["sla_threshold", "action_skipped"]
    assert (out.events[1].actor, out.events[1].at, out.events[1].details) == (
        "system:timer",
        T0 + timedelta(hours=1, minutes=2),
        {"fire": "close", "reason": "“close” refused: a note is still open"},
    )
    assert engine.record.timed_done == ["close"] and engine.next_wakeup() is None


def test_each_kind_of_timer_is_a_typed_value() -> None:
    engine = mini()
    assert engine.timers() == [SlaTimer(T0 + s(15), "resolution", 75.0)]
    fire(engine, BOB, "accept", assignee="bob")
    fire(engine, BOB, "resolve", T0 + s(1), resolution="fixed")
    assert engine.timers() == [TransitionTimer(T0 + s(4), "auto_close")]
    engine, _ = start(fixture("approval_deadline.yaml"))
    answer_resolves(engine, fire(engine, ALICE, "submit"), CAB, T0)
    assert engine.timers() == [ReminderTimer(T0 + s(2), "rec1.a1"), DeadlineTimer(T0 + s(4), "rec1.a1")]
    assert engine.next_wakeup() == T0 + s(2) and engine.next_wakeup(after_alarm=True) == T0 + s(4)
