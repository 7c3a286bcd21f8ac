"""Business calendars and business-time arithmetic.

Service-level targets in ITIL are usually agreed in *business time*: "respond within 4 working
hours" means four hours during which the service desk is staffed, not four hours on the wall clock.
An incident raised on Friday at 17:00 against a Monday-to-Friday 09:00-18:00 desk is therefore due
on Monday at 10:00, not on Friday at 21:00.

A :class:`BusinessCalendar` is written in YAML by process owners and says which instants count:

* ``weekly`` lists the working periods of each weekday as ``"HH:MM-HH:MM"`` strings in the
  calendar's ``timezone`` (``"24:00"`` is allowed as an end, meaning midnight at the end of the day).
  A lunch break is simply a gap between two periods: ``["09:00-12:00", "13:00-18:00"]``.
* ``holidays`` are whole days off even when they fall on a working weekday.
* ``workdays`` are extra working days. In mainland China public holidays are "bridged" by moving
  weekend days (调休): e.g. to get a seven-day National Day break a Saturday or Sunday next to it
  becomes an ordinary working day. On such a make-up day the hours of ``workday_hours`` apply, or the
  Monday hours when it is not given.
* ``always: true`` describes a 7x24 service: every second counts and the other fields are ignored.

Day boundaries are those of the calendar's local timezone, and periods are measured in real elapsed
time: on the night clocks go back, ``01:00-04:00`` lasts four hours; on the night they go forward it
lasts two. A period boundary that does not exist on the wall clock (it falls in the skipped hour) is
moved to the instant of the transition.

Everything here is pure and deterministic (no clock, no I/O) because it runs inside Temporal
workflows. The arithmetic walks day by day over working periods, so it costs time proportional to
the number of calendar days covered, never to the number of seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from definitions.derived import Derived

__all__ = [
    "MAX_SEARCH_DAYS",
    "BusinessCalendar",
    "Weekday",
    "add_business_time",
    "business_time_between",
    "is_working_day",
    "is_working_time",
    "parse_period",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Index i is the name of ``date.weekday() == i``.
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)

MAX_SEARCH_DAYS = 3653
"""How many consecutive days without working time are searched before giving up (about 10 years)."""

_MINUTES_PER_DAY = 24 * 60
_PERIOD_RE = re.compile(r"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")
_ZERO = timedelta(0)

Period = tuple[int, int]
"""A working period as (start, end) minutes since local midnight, 0 <= start < end <= 1440."""

Interval = tuple[datetime, datetime]
"""A working period on a concrete day as a half-open [start, end) pair of UTC instants."""


def _default_weekly() -> dict[Weekday, list[str]]:
    return {day: ["09:00-18:00"] for day in WEEKDAYS[:5]}


# --------------------------------------------------------------------------------------------
# Period parsing
# --------------------------------------------------------------------------------------------


def _clock_minutes(hours: str, minutes: str, text: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise ValueError(f"invalid time in period {text!r}: {hours}:{minutes} (expected 00:00 to 24:00)")
    return h * 60 + m


def parse_period(text: str) -> Period:
    """Parse ``"HH:MM-HH:MM"`` into minutes since midnight; ``"24:00"`` is allowed as the end."""
    match = _PERIOD_RE.match(text.strip())
    if match is None:
        raise ValueError(f"invalid period {text!r}: expected 'HH:MM-HH:MM', e.g. '09:00-18:00'")
    start = _clock_minutes(match[1], match[2], text)
    end = _clock_minutes(match[3], match[4], text)
    if start >= end:
        raise ValueError(f"invalid period {text!r}: start must be before end")
    return start, end


@lru_cache(maxsize=512)
def _parse_periods(texts: tuple[str, ...]) -> tuple[Period, ...]:
    """Parse, sort and check a day's periods for overlaps (touching periods are fine)."""
    parsed = sorted((parse_period(text), text) for text in texts)
    for (prev, prev_text), (cur, cur_text) in zip(parsed, parsed[1:], strict=False):
        if cur[0] < prev[1]:
            raise ValueError(f"overlapping periods {prev_text!r} and {cur_text!r}")
    return tuple(period for period, _ in parsed)


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


class BusinessCalendar(BaseModel):
    """Which instants count as business time (see the module docstring)."""

    # Frozen: its compiled schedule (and the deadlines computed in it) is kept with it.
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Asia/Shanghai"
    always: bool = False
    weekly: dict[Weekday, list[str]] = Field(default_factory=_default_weekly)
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    workday_hours: list[str] | None = None
    label: dict[str, str] | None = None
    shared: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Use the shared business calendar of this name (docs/schedule.md, 'Shared calendars'): "
        "its hours and its holidays, resolved when a record starts. Takes no other setting but `label`.",
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown timezone {value!r}: expected an IANA name such as 'Asia/Shanghai'"
            ) from None
        return value

    @field_validator("weekly")
    @classmethod
    def _check_weekly(cls, value: dict[Weekday, list[str]]) -> dict[Weekday, list[str]]:
        for day, periods in value.items():
            try:
                _parse_periods(tuple(periods))
            except ValueError as exc:
                raise ValueError(f"weekly.{day}: {exc}") from None
        return value

    @field_validator("workday_hours")
    @classmethod
    def _check_workday_hours(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            _parse_periods(tuple(value))
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> BusinessCalendar:
        if self.shared is not None:
            # Compared with the defaults, not the fields set: a reference travels as JSON with them.
            fields = type(self).model_fields
            extra = [
                n
                for n in sorted(self.model_fields_set - {"shared", "label"})
                if getattr(self, n) != fields[n].get_default(call_default_factory=True)
            ]
            if extra:
                raise ValueError(
                    f"a shared calendar reference takes no setting but label (remove {', '.join(extra)})"
                )
            return self
        clash = sorted(set(self.holidays) & set(self.workdays))
        if clash:
            raise ValueError(f"date {clash[0].isoformat()} is listed both in holidays and in workdays")
        if self.always:
            return self
        if not any(self.weekly.get(day) for day in WEEKDAYS):
            raise ValueError("calendar has no working period in the week (set weekly hours or always: true)")
        if self.workdays and not self._makeup_hours():
            raise ValueError(
                "workdays are listed but have no hours: set workday_hours or give Monday working hours"
            )
        return self

    def _makeup_hours(self) -> list[str]:
        if self.workday_hours is not None:
            return self.workday_hours
        return self.weekly.get("mon", [])


# --------------------------------------------------------------------------------------------
# Compiled schedule
# --------------------------------------------------------------------------------------------


def _local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Map a naive local wall time to a UTC instant.

    Ambiguous times (clocks going back) take their first occurrence; times that do not exist
    (clocks going forward) are moved to the transition instant. The mapping is monotonic, so
    consecutive periods never overlap in UTC.
    """
    instant = local.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local:
        return instant
    # In a gap: fold=0 and fold=1 map to instants on either side of the transition.
    other = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(instant, other), max(instant, other)
    # Binary search (in whole seconds) for the first instant whose wall time is >= ``local``.
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= local:
            hi_s = mid
        else:
            lo_s = mid
    return datetime.fromtimestamp(hi_s, UTC)


# Answers a schedule keeps (see _Schedule): a bound, so that a worker running for years stays small.
_MEMO_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class _Schedule:
    """A calendar pre-processed for fast day-by-day lookups.

    It remembers each local day's intervals and each deadline it computed. A workflow asks for the
    same few SLA deadlines several times per action (the thresholds, the next wake-up, the record's
    view), each a day-by-day walk through time zones, which was about 7 % of the worker's CPU per
    action (bench/api.py). Both are pure functions of the calendar, so remembering them changes no
    answer: replays and continued runs compute the same instants."""

    tz: ZoneInfo
    weekly: tuple[tuple[Period, ...], ...]  # indexed by date.weekday()
    holidays: frozenset[date]
    workdays: frozenset[date]
    makeup: tuple[Period, ...]
    days: dict[date, tuple[Interval, ...]] = field(default_factory=dict, compare=False)
    deadlines: dict[tuple[datetime, timedelta], datetime] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, cal: BusinessCalendar) -> _Schedule:
        """The calendar's schedule, built once per (frozen) calendar."""
        return _SCHEDULES.get(cal)

    @classmethod
    def build(cls, cal: BusinessCalendar) -> _Schedule:
        return cls(
            tz=ZoneInfo(cal.timezone),
            weekly=tuple(_parse_periods(tuple(cal.weekly.get(day, []))) for day in WEEKDAYS),
            holidays=frozenset(cal.holidays),
            workdays=frozenset(cal.workdays),
            makeup=_parse_periods(tuple(cal._makeup_hours())),
        )

    def periods_on(self, day: date) -> tuple[Period, ...]:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.makeup
        return self.weekly[day.weekday()]

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The working periods of a local day as UTC instants, in order (empty ones dropped)."""
        known = self.days.get(day)
        if known is not None:
            return known
        midnight = datetime.combine(day, time())
        intervals: list[Interval] = []
        for start, end in self.periods_on(day):
            lo = _local_to_utc(midnight + timedelta(minutes=start), self.tz)
            hi = _local_to_utc(midnight + timedelta(minutes=end), self.tz)
            if hi > lo:
                intervals.append((lo, hi))
        if len(self.days) >= _MEMO_LIMIT:
            self.days.clear()
        found = self.days[day] = tuple(intervals)
        return found

    def add(self, cursor: datetime, duration: timedelta) -> datetime:
        """`add_business_time` for a positive duration from a UTC `cursor`, remembered."""
        key = (cursor, duration)
        known = self.deadlines.get(key)
        if known is None:
            known = self._walk(cursor, duration)
            if len(self.deadlines) >= _MEMO_LIMIT:
                self.deadlines.clear()
            self.deadlines[key] = known
        return known

    def _walk(self, cursor: datetime, duration: timedelta) -> datetime:
        remaining = duration
        day = self.local_date(cursor)
        idle_days = 0
        while True:
            worked = False
            for lo, hi in self.intervals_on(day):
                if hi <= cursor:
                    continue
                lo = max(lo, cursor)
                worked = True
                if remaining <= hi - lo:
                    return lo + remaining
                remaining -= hi - lo
            idle_days = 0 if worked else idle_days + 1
            if idle_days > MAX_SEARCH_DAYS:
                since = day - timedelta(days=idle_days)
                raise ValueError(
                    f"no working time in the calendar within {MAX_SEARCH_DAYS} days from {since.isoformat()}"
                    " (are all days holidays?)"
                )
            day += timedelta(days=1)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()


_SCHEDULES: Derived[BusinessCalendar, _Schedule] = Derived(_Schedule.build)


def _as_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def add_business_time(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Return the instant (aware, UTC) at which ``duration`` of business time has elapsed from ``start``.

    Counting begins at ``start`` if it is within working hours, otherwise at the next working
    period. When the duration is used up exactly at the end of a period, that end is returned.
    A zero duration returns ``start`` itself (as UTC), even outside working hours.

    Raises ``ValueError`` for a naive ``start``, a negative duration, or when no working time
    exists within :data:`MAX_SEARCH_DAYS` days.
    """
    cursor = _as_utc(start, "start")
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")
    if duration == _ZERO:
        return cursor
    if cal.always:
        return cursor + duration
    return _Schedule.of(cal).add(cursor, duration)


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time elapsed in ``[start, end)``; zero when ``end <= start``."""
    lo_bound, hi_bound = _as_utc(start, "start"), _as_utc(end, "end")
    if hi_bound <= lo_bound:
        return _ZERO
    if cal.always:
        return hi_bound - lo_bound

    schedule = _Schedule.of(cal)
    total = _ZERO
    day, last = schedule.local_date(lo_bound), schedule.local_date(hi_bound)
    while day <= last:
        for lo, hi in schedule.intervals_on(day):
            overlap = min(hi, hi_bound) - max(lo, lo_bound)
            if overlap > _ZERO:
                total += overlap
        day += timedelta(days=1)
    return total


def is_working_time(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether the instant ``at`` falls within a working period (periods are half-open)."""
    instant = _as_utc(at, "at")
    if cal.always:
        return True
    schedule = _Schedule.of(cal)
    return any(lo <= instant < hi for lo, hi in schedule.intervals_on(schedule.local_date(instant)))


def is_working_day(cal: BusinessCalendar, day: date) -> bool:
    """Whether the local day has working time (a make-up day does, a holiday does not; 7x24: always)."""
    return cal.always or bool(_Schedule.of(cal).periods_on(day))
