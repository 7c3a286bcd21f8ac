"""Recurrence rules for scheduled records, aware of business calendars.

Routine operations (issue 20) start records on a rhythm people state in working terms: "every
workday at 09:00 in the PRC calendar", "the first working day of each quarter", "every 90 days",
"every year on 1 March". Temporal Schedules fire on cron or interval specs, which know nothing of
调休 make-up days or holidays, so the rule itself decides which local instants are occurrences; the
schedule layer then hands Temporal those instants (or checks each firing against the rule).

Everything here is pure and deterministic: no clock, no I/O. A rule that can never fire (a
29 February on a calendar that never works that day, a working-day rule on a calendar with no
working day) is refused with a bilingual message naming the field, never accepted silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from definitions.calendar import MAX_SEARCH_DAYS, WEEKDAYS, BusinessCalendar

__all__ = ["Recurrence", "RecurrenceError", "next_occurrences", "parse_recurrence"]

Kind = Literal["workdays", "month_first_workday", "quarter_first_workday", "every_days", "yearly"]


class RecurrenceError(ValueError):
    """A rule that is malformed or never fires; ``path`` names the field, texts in en and zh."""

    def __init__(self, path: str, en: str, zh: str) -> None:
        super().__init__(f"{path}: {en}")
        self.path, self.en, self.zh = path, en, zh


class Recurrence(BaseModel):
    """One recurrence rule; ``at`` is a local wall-clock time in the calendar's timezone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    at: time = time(9, 0)
    every: int | None = Field(default=None, ge=1, le=3660)  # days, for every_days
    start: date | None = None  # first day of an every_days rhythm
    month: int | None = Field(default=None, ge=1, le=12)  # yearly
    day: int | None = Field(default=None, ge=1, le=31)  # yearly


def parse_recurrence(data: object) -> Recurrence:
    """A rule from its JSON/YAML form; RecurrenceError (path, en, zh) for any mistake."""
    try:
        rule = Recurrence.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "recurrence"
        raise RecurrenceError(path, first["msg"], _in_chinese(path, first)) from None
    return _check_parts(rule)


def _in_chinese(path: str, error: Any) -> str:
    """pydantic's message in Chinese for the mistakes people make in a rule; its own words otherwise."""
    kind = error.get("type")
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace(" or ", ", ").replace(", ", "、")
        return f"字段 {path} 应为以下之一：{expected}"
    if kind in ("time_parsing", "time_type", "time_delta_parsing"):
        return f"字段 {path} 应为当地时间 HH:MM 或 HH:MM:SS"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return f"字段 {path} 应为日期 YYYY-MM-DD"
    if kind in ("int_parsing", "int_type", "greater_than_equal", "less_than_equal"):
        return f"字段 {path} 应为范围内的整数"
    if kind == "extra_forbidden":
        return f"规则中没有字段 {path}"
    return f"字段 {path} 无效：{error.get('msg', '')}"


def _check_parts(rule: Recurrence) -> Recurrence:
    if rule.kind == "every_days" and (rule.every is None or rule.start is None):
        raise RecurrenceError(
            "every", "a rule every N days needs 'every' and 'start'", "按天数循环的规则需要间隔天数和起始日期"
        )
    if rule.kind == "yearly":
        if rule.month is None or rule.day is None:
            raise RecurrenceError("month", "a yearly rule needs a month and a day", "每年规则需要月份和日期")
        try:
            date(2024, rule.month, rule.day)  # a leap year: 29 February is allowed
        except ValueError:
            raise RecurrenceError(
                "day", f"month {rule.month} has no day {rule.day}", f"{rule.month} 月没有第 {rule.day} 日"
            ) from None
    return rule


def _is_workday(cal: BusinessCalendar, day: date) -> bool:
    if cal.always:
        return True
    if day in cal.holidays:
        return False
    if day in cal.workdays:
        return True
    return bool(cal.weekly.get(WEEKDAYS[day.weekday()]))


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3


def _month(day: date) -> tuple[int, int]:
    return day.year, day.month - 1


def _period_start(kind: Kind, day: date) -> date:
    """The first day of the month or quarter ``day`` falls in."""
    return (
        date(day.year, day.month, 1)
        if kind == "month_first_workday"
        else date(day.year, 3 * _quarter(day)[1] + 1, 1)
    )


def _candidate_days(rule: Recurrence, cal: BusinessCalendar, first: date) -> Iterator[date]:
    """Local days on which the rule fires, from ``first`` on, for at most MAX_SEARCH_DAYS days."""
    # For the "first working day of each month/quarter" kinds: the period whose first working day has
    # already passed before ``first`` (None: not yet).
    period = _month if rule.kind == "month_first_workday" else _quarter
    p_start = _period_start(rule.kind, first)
    worked = any(_is_workday(cal, p_start + timedelta(days=n)) for n in range((first - p_start).days))
    done: tuple[int, int] | None = period(first) if worked else None
    for offset in range(MAX_SEARCH_DAYS + 1):
        day = first + timedelta(days=offset)
        if rule.kind == "workdays" and _is_workday(cal, day):
            yield day
        elif rule.kind == "every_days":
            assert rule.start is not None and rule.every is not None
            if day >= rule.start and (day - rule.start).days % rule.every == 0:
                yield day
        elif rule.kind == "yearly" and (day.month, day.day) == (rule.month, rule.day):
            yield day
        elif (
            rule.kind in ("month_first_workday", "quarter_first_workday")
            and _is_workday(cal, day)
            and period(day) != done
        ):
            done = period(day)
            yield day


def next_occurrences(
    rule: Recurrence, cal: BusinessCalendar, after: datetime, count: int = 1
) -> list[datetime]:
    """The next ``count`` UTC instants strictly after ``after``; RecurrenceError when none exists."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    tz = ZoneInfo(cal.timezone)
    found: list[datetime] = []
    for day in _candidate_days(rule, cal, after.astimezone(tz).date()):
        instant = datetime.combine(day, rule.at, tzinfo=tz).astimezone(UTC)
        if instant > after:
            found.append(instant)
            if len(found) == count:
                return found
    if not found:
        raise RecurrenceError(
            "kind",
            f"this rule never fires within {MAX_SEARCH_DAYS} days on calendar {cal.timezone}",
            f"该规则在 {MAX_SEARCH_DAYS} 天内从不触发，请检查日历与规则",
        )
    return found
