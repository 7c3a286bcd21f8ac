"""Recurrence rules: business-calendar-aware occurrences and clear refusals (issue 20)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from definitions.calendar import BusinessCalendar
from definitions.recurrence import RecurrenceError, next_occurrences, parse_recurrence

# 2026 National Day: 1-8 October off, Sunday 27 September and Saturday 10 October worked (调休).
PRC = BusinessCalendar(
    timezone="Asia/Shanghai",
    holidays=[date(2026, 10, d) for d in range(1, 9)] + [date(2026, 1, 1), date(2026, 1, 2)],
    workdays=[date(2026, 9, 27), date(2026, 10, 10)],
)
PRC_TZ = ZoneInfo("Asia/Shanghai")


def _local(instants: list[datetime]) -> list[tuple[date, time]]:
    return [(i.astimezone(PRC_TZ).date(), i.astimezone(PRC_TZ).time()) for i in instants]


def test_workdays_skip_holidays_and_include_makeup_days() -> None:
    rule = parse_recurrence({"kind": "workdays", "at": "09:00"})
    after = datetime(2026, 9, 25, 12, 0, tzinfo=UTC)  # Friday 20:00 in Shanghai
    days = [d for d, _ in _local(next_occurrences(rule, PRC, after, count=3))]
    assert days == [date(2026, 9, 27), date(2026, 9, 28), date(2026, 9, 29)]
    after_break = datetime(2026, 9, 30, 12, 0, tzinfo=UTC)
    days = [d for d, _ in _local(next_occurrences(rule, PRC, after_break, count=2))]
    assert days == [date(2026, 10, 9), date(2026, 10, 10)]


def test_fires_at_local_time_in_utc() -> None:
    rule = parse_recurrence({"kind": "workdays", "at": "09:00"})
    [first] = next_occurrences(rule, PRC, datetime(2026, 9, 28, 0, 0, tzinfo=UTC))
    assert first == datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # 09:00 in UTC+8
    # Strictly after: at the very instant of an occurrence the next one is the following workday.
    [again] = next_occurrences(rule, PRC, first)
    assert again == datetime(2026, 9, 29, 1, 0, tzinfo=UTC)


def test_first_working_day_of_quarter() -> None:
    rule = parse_recurrence({"kind": "quarter_first_workday", "at": "10:00"})
    got = _local(next_occurrences(rule, PRC, datetime(2025, 12, 15, tzinfo=UTC), count=4))
    # 1-2 January are holidays, 3-4 a weekend; 1 April 2026 is a Wednesday; 1 July Wednesday;
    # October: 1-8 holidays, 9th Friday.
    assert [d for d, _ in got] == [date(2026, 1, 5), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 9)]
    assert {t for _, t in got} == {time(10, 0)}


def test_first_working_day_of_month() -> None:
    """A monthly report's rhythm: after the National Day holidays (1-8 October) the 9th; 1 November
    2026 is a Sunday, so the 2nd."""
    rule = parse_recurrence({"kind": "month_first_workday", "at": "09:00"})
    got = _local(next_occurrences(rule, PRC, datetime(2026, 9, 15, tzinfo=UTC), count=3))
    assert [d for d, _ in got] == [date(2026, 10, 9), date(2026, 11, 2), date(2026, 12, 1)]
    # From the first day of a month whose first working day is still ahead: that day.
    [(day, _)] = _local(next_occurrences(rule, PRC, datetime(2026, 1, 31, 20, tzinfo=UTC)))
    assert day == date(2026, 2, 2)


def test_mid_quarter_start_waits_for_next_quarter() -> None:
    rule = parse_recurrence({"kind": "quarter_first_workday"})
    [got] = _local(next_occurrences(rule, PRC, datetime(2026, 2, 10, tzinfo=UTC)))
    assert got[0] == date(2026, 4, 1)


def test_every_90_days_and_yearly() -> None:
    every = parse_recurrence({"kind": "every_days", "every": 90, "start": "2026-01-01", "at": "08:00"})
    got = [d for d, _ in _local(next_occurrences(every, PRC, datetime(2025, 6, 1, tzinfo=UTC), count=3))]
    assert got == [date(2026, 1, 1), date(2026, 4, 1), date(2026, 6, 30)]
    yearly = parse_recurrence({"kind": "yearly", "month": 3, "day": 1})
    got = [d for d, _ in _local(next_occurrences(yearly, PRC, datetime(2026, 3, 2, tzinfo=UTC), count=2))]
    assert got == [date(2027, 3, 1), date(2028, 3, 1)]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"kind": "hourly"}, "kind"),
        ({"kind": "workdays", "at": "25:00"}, "at"),
        ({"kind": "every_days", "every": 90}, "every"),
        ({"kind": "every_days", "every": 0, "start": "2026-01-01"}, "every"),
        ({"kind": "yearly", "month": 2, "day": 30}, "day"),
        ({"kind": "yearly", "month": 4}, "month"),
        ({"kind": "workdays", "colour": "red"}, "colour"),
    ],
)
def test_bad_rules_name_the_field_in_both_languages(data: dict[str, object], path: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        parse_recurrence(data)
    assert info.value.path == path
    assert info.value.en and info.value.zh and info.value.zh != info.value.en


def test_never_firing_rule_is_refused() -> None:
    # 29 February on a calendar: fires only in leap years, so found; a start beyond the search is not.
    leap = parse_recurrence({"kind": "yearly", "month": 2, "day": 29})
    [got] = _local(next_occurrences(leap, PRC, datetime(2026, 1, 1, tzinfo=UTC)))
    assert got[0] == date(2028, 2, 29)
    far = parse_recurrence({"kind": "every_days", "every": 7, "start": "2099-01-01"})
    with pytest.raises(RecurrenceError) as info:
        next_occurrences(far, PRC, datetime(2026, 1, 1, tzinfo=UTC))
    assert info.value.path == "kind" and "从不触发" in info.value.zh


def test_naive_instant_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrences(parse_recurrence({"kind": "workdays"}), PRC, datetime(2026, 1, 1))
