"""Which firings of a schedule start a record: the business-calendar check and the catch-up policy.

Temporal fires on every day a rule could fire (client/schedules.py); only the calendar knows whether
that day is an occurrence. A run that comes late (Temporal or the worker was down, and Temporal
caught up) follows the schedule's policy: `skip` starts nothing; `once` starts only the last missed
occurrence, so three days of downtime give one late inspection, not three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from definitions import shared_calendars
from definitions.calendar import BusinessCalendar
from definitions.recurrence import Recurrence, RecurrenceError, next_occurrences
from recurring.errors import ScheduleError
from schedule import shared_store

# Longer than a run waits in the task queue when a thousand schedules fire at once (bench/schedules.py),
# shorter than any rule's period: a run later than this was missed, not merely queued.
LATE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Decision:
    action: Literal["start", "skip", "not_due"]
    reason: str | None = None  # late (started or skipped late) | superseded


def calendar_for(session: Session, name: str | None, timezone: str) -> BusinessCalendar:
    """The named shared calendar as in force now; without a name, every day works (in `timezone`)."""
    if name is None:
        try:
            return BusinessCalendar(timezone=timezone, always=True)
        except ValueError:
            raise ScheduleError(
                "timezone", f"unknown timezone {timezone!r}", f"未知时区 {timezone!r}"
            ) from None
    if name not in shared_calendars.builtin_names():
        known = ", ".join(sorted(shared_calendars.builtin_names()))
        raise ScheduleError(
            "calendar",
            f"no shared calendar {name!r} (known: {known})",
            f"没有名为 {name!r} 的共享日历（可用：{known}）",
        )
    return shared_store.resolve(session, [name])[name][1]


def is_occurrence(rule: Recurrence, cal: BusinessCalendar, at: datetime) -> bool:
    try:
        [first] = next_occurrences(rule, cal, at - timedelta(seconds=1))
    except RecurrenceError:
        return False
    return first == at.replace(microsecond=0)


def decide(
    rule: Recurrence, cal: BusinessCalendar, scheduled_at: datetime, now: datetime, catch_up: str
) -> Decision:
    if not is_occurrence(rule, cal, scheduled_at):
        return Decision("not_due")
    if now - scheduled_at <= LATE_AFTER:
        return Decision("start")
    if catch_up == "skip":
        return Decision("skip", "late")
    try:
        [following] = next_occurrences(rule, cal, scheduled_at)
    except RecurrenceError:
        return Decision("start", "late")
    if following <= now:
        return Decision("skip", "superseded")  # a later occurrence was missed too: that one starts
    return Decision("start", "late")
