"""Timers: every instant at which the record has something to do, as typed values, and firing what is due.

Each timer is an absolute instant (business time already applied): an SLA threshold, an approval's next
reminder or its deadline, a timed transition. The workflow sleeps until the earliest; `fire_due` fires
everything due, earliest first, recomputing after each (a fired timer can change what comes next)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from definitions.calendar import add_business_time
from workflows import sla as clocks
from workflows.contracts import Actor
from workflows.engine.approvals import Approvals
from workflows.engine.moves import Mover
from workflows.engine.outcome import Outcome, SlaAlarm
from workflows.engine.record import RecordContext
from workflows.engine.thresholds import Thresholds


@dataclass(frozen=True)
class SlaTimer:
    """An SLA clock reaches `percent` of its target."""

    at: datetime
    sla: str
    percent: float


@dataclass(frozen=True)
class ReminderTimer:
    """An open approval's next reminder to those who have not decided."""

    at: datetime
    task_id: str


@dataclass(frozen=True)
class DeadlineTimer:
    """An open approval's deadline: its step's expiry rule applies."""

    at: datetime
    task_id: str


@dataclass(frozen=True)
class TransitionTimer:
    """A timed transition is due (`after` its source state was entered)."""

    at: datetime
    trigger: str


Timer = SlaTimer | ReminderTimer | DeadlineTimer | TransitionTimer

# Bounds one call of fire_due: each pass consumes at least one timer.
MAX_TIMERS_PER_CALL = 1000


class Timers:
    def __init__(
        self, ctx: RecordContext, thresholds: Thresholds, approvals: Approvals, mover: Mover
    ) -> None:
        self._ctx = ctx
        self._thresholds = thresholds
        self._approvals = approvals
        self._mover = mover

    def pending(self) -> list[Timer]:
        """Every pending timer, earliest first (at the same instant: clocks, approvals, transitions,
        each in the order of the definition or the record)."""
        definition, record = self._ctx.definition, self._ctx.record
        due: list[Timer] = []
        for sla in definition.slas:
            clock = record.slas.get(sla.name)
            if clock is not None:
                nxt = clocks.next_due(definition, sla, clock)
                if nxt is not None:
                    due.append(SlaTimer(nxt[0], sla.name, nxt[1]))
        for task in record.approvals:
            if task.state != "pending" or task.deadline is None:
                continue
            step = self._approvals.step(task.step)
            assert step is not None
            if task.reminders_sent < len(step.reminders):
                calendar = clocks.calendar_of(definition, step.calendar)
                at = add_business_time(calendar, task.opened_at, step.reminders[task.reminders_sent])
                due.append(ReminderTimer(at, task.id))
            if not task.escalated:
                due.append(DeadlineTimer(task.deadline, task.id))
        for t in definition.transitions:
            if t.after is not None and record.state in t.from_ and t.trigger not in record.timed_done:
                calendar = clocks.calendar_of(definition, t.calendar)
                due.append(
                    TransitionTimer(add_business_time(calendar, record.entered_state_at, t.after), t.trigger)
                )
        return sorted(due, key=lambda timer: timer.at)

    def next_wakeup(self, after_alarm: bool = False) -> datetime | None:
        """The earliest timer; with `after_alarm`, the earliest after the next alarm's own timer."""
        timers = self.pending()[1:] if after_alarm else self.pending()
        return timers[0].at if timers else None

    def next_alarm(self) -> SlaAlarm | None:
        """The next timer as an alarm, when it is an SLA threshold that only notifies.

        Only the very next timer qualifies: anything due before it could change the record first
        (which the alarm would not know), and a threshold with other effects must run in the workflow.
        """
        timers = self.pending()
        if not timers or not isinstance(timers[0], SlaTimer):
            return None
        first = timers[0]
        return self._thresholds.alarm(first.sla, first.percent, first.at)

    def fire_due(self, now: datetime) -> Outcome:
        """Fire everything due at or before `now`, earliest first, each exactly once."""
        out = Outcome()
        for _ in range(MAX_TIMERS_PER_CALL):
            due = [timer for timer in self.pending() if timer.at <= now]
            if not due:
                break
            out.extend(self._fire(due[0]))
        return out

    def _fire(self, timer: Timer) -> Outcome:
        match timer:
            case SlaTimer(at=at, sla=sla, percent=percent):
                return self._thresholds.cross(sla, percent, at)
            case ReminderTimer(at=at, task_id=task_id):
                return self._approvals.remind(task_id, at)
            case DeadlineTimer(at=at, task_id=task_id):
                return self._approvals.expire(task_id, at)
            case TransitionTimer(at=at, trigger=trigger):
                self._ctx.record.timed_done.append(trigger)
                return self._mover.try_fire(Actor.system("timer"), trigger, at)
            case _:
                assert_never(timer)
