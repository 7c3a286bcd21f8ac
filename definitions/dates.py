"""Dates in guards: notice periods, deadlines relative to a field, the age of a record.

A guard compares dates when it has an `offset` or names `now` or `created_at`, the two dates every
record has (the moment of the action, and of the record's creation). "Report 20 working days ahead" is
`{field: planned_start, op: ge, value_field: now, offset: {working_days: 20, calendar: business}}`;
"reopen within 5 days of resolution" is `{field: now, op: le, value_field: resolved_at, offset: {days: 5}}`.

Field values are ISO 8601 text: a date-time with its offset, or a date (its midnight in the calendar's
time zone, Asia/Shanghai without one). Pure and deterministic: `now` comes from the workflow's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from definitions.calendar import BusinessCalendar, add_business_time, business_time_between, is_working_day
from definitions.model import DateOffset, Guard

PSEUDO_DATES = frozenset({"now", "created_at"})
DEFAULT_TZ = "Asia/Shanghai"
ALWAYS = BusinessCalendar(always=True)


def is_date_guard(guard: Guard) -> bool:
    return guard.offset is not None or guard.field in PSEUDO_DATES or guard.value_field in PSEUDO_DATES


def instant(value: Any, tz: ZoneInfo) -> datetime | None:
    """A field's value as an aware instant (None when it holds no date)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) == 10:  # a date alone: its midnight where the calendar is
        return datetime.combine(parsed.date(), time(), tz)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def calendar_of(offset: DateOffset | None, calendars: Mapping[str, BusinessCalendar]) -> BusinessCalendar:
    if offset is None or offset.calendar is None:
        return ALWAYS
    return calendars.get(offset.calendar, ALWAYS)


def shifted(base: datetime, offset: DateOffset | None, cal: BusinessCalendar) -> datetime:
    """`base` moved by the offset (working days keep the local time of day)."""
    if offset is None:
        return base
    n = offset.amount
    if offset.unit == "days":
        return base + timedelta(days=n)
    if offset.unit == "hours":
        return base + timedelta(hours=n)
    if offset.unit == "working_hours":
        return add_business_time(cal, base.astimezone(UTC), timedelta(hours=n))
    tz = ZoneInfo(cal.timezone)
    local = base.astimezone(tz)
    day, step, left = local.date(), (1 if n >= 0 else -1), abs(n)
    for _ in range(3653):
        if left == 0:
            break
        day += timedelta(days=step)
        if is_working_day(cal, day):
            left -= 1
    return datetime.combine(day, local.time(), tz)


def sides(
    guard: Guard, fields: Mapping[str, Any], calendars: Mapping[str, BusinessCalendar]
) -> tuple[datetime | None, datetime | None]:
    """The guard's left date and its right date moved by the offset."""
    cal = calendar_of(guard.offset, calendars)
    tz = ZoneInfo(cal.timezone if not cal.always or guard.offset is not None else DEFAULT_TZ)
    left = instant(fields.get(guard.field or ""), tz)
    raw = fields.get(guard.value_field) if guard.value_field else guard.value
    right = instant(raw, tz)
    return left, (shifted(right, guard.offset, cal) if right is not None else None)


def holds(guard: Guard, fields: Mapping[str, Any], calendars: Mapping[str, BusinessCalendar]) -> bool:
    left, right = sides(guard, fields, calendars)
    if left is None or right is None:
        return False
    return {
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
        "eq": left == right,
        "ne": left != right,
    }.get(guard.op or "", False)


def gap(
    guard: Guard, fields: Mapping[str, Any], calendars: Mapping[str, BusinessCalendar]
) -> tuple[int, str]:
    """How far the left date is from the right one, in the offset's unit (days without one), rounded up:
    what a refusal says is missing ("7 working days short")."""
    left, right = sides(guard, fields, calendars)
    if left is None or right is None:
        return 0, "days"
    unit = guard.offset.unit if guard.offset else "days"
    early, late = sorted((left, right))
    if unit == "working_days":
        cal = calendar_of(guard.offset, calendars)
        tz = ZoneInfo(cal.timezone)
        day, end, count = early.astimezone(tz).date(), late.astimezone(tz).date(), 0
        while day < end and count < 5000:
            day += timedelta(days=1)
            count += is_working_day(cal, day)
        return max(count, 1), unit
    if unit == "working_hours":
        spent = business_time_between(calendar_of(guard.offset, calendars), early, late)
        return max(-(-int(spent.total_seconds()) // 3600), 1), unit
    seconds = (late - early).total_seconds()
    size = 3600 if unit == "hours" else 86400
    return max(-(-int(seconds) // size), 1), unit
