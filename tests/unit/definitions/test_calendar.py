"""Tests for definitions.calendar: business calendars and business-time arithmetic."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from definitions.calendar import (
    MAX_SEARCH_DAYS,
    BusinessCalendar,
    add_business_time,
    business_time_between,
    is_working_time,
    parse_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=SHANGHAI)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# PRC National Day 2026: Thu 1 Oct .. Wed 7 Oct off. The make-up workdays below (Sun 27 Sep and
# Sat 10 Oct) are illustrative, chosen for these tests; check the State Council notice for real use.
NATIONAL_DAY = days(date(2026, 10, 1), date(2026, 10, 7))
MAKEUP_DAYS = [date(2026, 9, 27), date(2026, 10, 10)]


def prc_calendar(**extra: Any) -> BusinessCalendar:
    return BusinessCalendar(holidays=NATIONAL_DAY, workdays=MAKEUP_DAYS, **extra)


# --------------------------------------------------------------------------------------------
# Worked-by-hand cases
# --------------------------------------------------------------------------------------------


def test_defaults() -> None:
    cal = BusinessCalendar()
    assert cal.timezone == "Asia/Shanghai"
    assert cal.always is False
    assert cal.weekly == {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_friday_evening_plus_two_hours_is_monday_ten() -> None:
    cal = BusinessCalendar()
    friday = sh(2026, 3, 6, 17, 0)
    assert friday.strftime("%a") == "Fri"
    result = add_business_time(cal, friday, 2 * H)
    assert result.tzinfo is UTC
    assert result == sh(2026, 3, 9, 10, 0)
    assert result.astimezone(SHANGHAI).strftime("%a %H:%M") == "Mon 10:00"
    assert business_time_between(cal, friday, result) == 2 * H


def test_start_in_other_timezone() -> None:
    cal = BusinessCalendar()
    friday_utc = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    assert add_business_time(cal, friday_utc, 2 * H) == datetime(2026, 3, 9, 2, 0, tzinfo=UTC)


def test_start_outside_working_hours_counts_from_next_period() -> None:
    cal = BusinessCalendar()
    assert add_business_time(cal, sh(2026, 3, 7, 12, 0), H) == sh(2026, 3, 9, 10, 0)  # Saturday
    assert add_business_time(cal, sh(2026, 3, 9, 7, 0), H) == sh(2026, 3, 9, 10, 0)  # before opening
    assert add_business_time(cal, sh(2026, 3, 9, 19, 0), H) == sh(2026, 3, 10, 10, 0)  # after closing


def test_duration_ending_exactly_at_period_end_returns_that_end() -> None:
    cal = BusinessCalendar()
    assert add_business_time(cal, sh(2026, 3, 9, 9, 0), 9 * H) == sh(2026, 3, 9, 18, 0)
    assert add_business_time(cal, sh(2026, 3, 9, 9, 0), 9 * H + timedelta(microseconds=1)) == sh(
        2026, 3, 10, 9, 0, 0, 1
    )


def test_zero_duration_returns_start() -> None:
    cal = BusinessCalendar()
    saturday = sh(2026, 3, 7, 12, 0)
    assert add_business_time(cal, saturday, timedelta(0)) == saturday


def test_lunch_break_is_skipped() -> None:
    weekday_hours = ["09:00-12:00", "13:00-18:00"]
    cal = BusinessCalendar(weekly=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekday_hours))
    assert add_business_time(cal, sh(2026, 3, 9, 11, 0), 2 * H) == sh(2026, 3, 9, 14, 0)
    assert add_business_time(cal, sh(2026, 3, 9, 12, 30), H) == sh(2026, 3, 9, 14, 0)
    assert business_time_between(cal, sh(2026, 3, 9, 0, 0), sh(2026, 3, 10, 0, 0)) == 8 * H
    assert not is_working_time(cal, sh(2026, 3, 9, 12, 30))
    assert is_working_time(cal, sh(2026, 3, 9, 13, 0))
    assert not is_working_time(cal, sh(2026, 3, 9, 18, 0))  # periods are half-open


def test_periods_may_be_listed_in_any_order() -> None:
    cal = BusinessCalendar(weekly={"mon": ["13:00-18:00", "09:00-12:00"]})
    assert add_business_time(cal, sh(2026, 3, 9, 8, 0), 4 * H) == sh(2026, 3, 9, 14, 0)


def test_holiday_on_monday_pushes_to_tuesday() -> None:
    cal = BusinessCalendar(holidays=[date(2026, 3, 9)])
    assert add_business_time(cal, sh(2026, 3, 6, 17, 0), 2 * H) == sh(2026, 3, 10, 10, 0)
    assert not is_working_time(cal, sh(2026, 3, 9, 10, 0))


def test_makeup_workday_counts() -> None:
    cal = prc_calendar()
    assert date(2026, 9, 27).strftime("%a") == "Sun"
    # Friday 25 Sep 17:00 + 2h: one hour on Friday, one on make-up Sunday 27 Sep.
    assert add_business_time(cal, sh(2026, 9, 25, 17, 0), 2 * H) == sh(2026, 9, 27, 10, 0)
    assert is_working_time(cal, sh(2026, 9, 27, 10, 0))
    # Wednesday 30 Sep 17:00 + 2h: the whole National Day week is skipped.
    assert add_business_time(cal, sh(2026, 9, 30, 17, 0), 2 * H) == sh(2026, 10, 8, 10, 0)
    assert not is_working_time(cal, sh(2026, 10, 1, 10, 0))
    # Sep 26 (Sat) .. Oct 11 (Sun) : working days Sep 27, 28, 29, 30, Oct 8, 9, 10 = 7 days x 9h.
    assert business_time_between(cal, sh(2026, 9, 26, 0, 0), sh(2026, 10, 12, 0, 0)) == 7 * 9 * H


def test_makeup_workday_uses_workday_hours() -> None:
    cal = prc_calendar(workday_hours=["10:00-16:00"])
    assert add_business_time(cal, sh(2026, 9, 25, 17, 0), 2 * H) == sh(2026, 9, 27, 11, 0)
    assert business_time_between(cal, sh(2026, 9, 27, 0, 0), sh(2026, 9, 28, 0, 0)) == 6 * H


def test_makeup_workday_defaults_to_monday_hours() -> None:
    cal = prc_calendar(weekly={"mon": ["08:00-12:00"], "tue": ["09:00-18:00"]})
    assert business_time_between(cal, sh(2026, 9, 27, 0, 0), sh(2026, 9, 28, 0, 0)) == 4 * H


def test_always_calendar_counts_every_second() -> None:
    cal = BusinessCalendar(always=True, holidays=[date(2026, 3, 7)])
    saturday = sh(2026, 3, 7, 3, 0)
    assert add_business_time(cal, saturday, 30 * H) == sh(2026, 3, 8, 9, 0)
    assert business_time_between(cal, saturday, sh(2026, 3, 8, 9, 0)) == 30 * H
    assert is_working_time(cal, saturday)


def test_always_calendar_uses_real_time_across_dst() -> None:
    cal = BusinessCalendar(always=True, timezone="Europe/Berlin", weekly={})
    start = berlin(2026, 3, 29, 0, 0)
    assert add_business_time(cal, start, 24 * H) == berlin(2026, 3, 30, 1, 0)


def test_business_time_between_empty_or_reversed_range() -> None:
    cal = BusinessCalendar()
    assert business_time_between(cal, sh(2026, 3, 9, 12, 0), sh(2026, 3, 9, 12, 0)) == timedelta(0)
    assert business_time_between(cal, sh(2026, 3, 9, 12, 0), sh(2026, 3, 9, 10, 0)) == timedelta(0)


def test_twenty_four_hour_day_periods() -> None:
    cal = BusinessCalendar(weekly={"sat": ["00:00-24:00"], "sun": ["00:00-12:00", "12:00-24:00"]})
    assert business_time_between(cal, sh(2026, 3, 6, 0, 0), sh(2026, 3, 9, 0, 0)) == 48 * H
    assert add_business_time(cal, sh(2026, 3, 7, 23, 0), 2 * H) == sh(2026, 3, 8, 1, 0)


# --------------------------------------------------------------------------------------------
# Daylight saving time (Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00)
# --------------------------------------------------------------------------------------------


def test_dst_period_is_real_elapsed_time() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin", weekly={"sun": ["01:00-04:00"]})
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert business_time_between(cal, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == 2 * H
    assert business_time_between(cal, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)) == 4 * H
    assert business_time_between(cal, berlin(2026, 3, 22, 0, 0), berlin(2026, 3, 23, 0, 0)) == 3 * H
    assert add_business_time(cal, berlin(2026, 3, 29, 0, 0), 2 * H) == berlin(2026, 3, 29, 4, 0)
    assert add_business_time(cal, berlin(2026, 10, 25, 0, 0), 4 * H) == berlin(2026, 10, 25, 4, 0)
    # The repeated hour 02:00-03:00 is worked twice.
    assert is_working_time(cal, berlin(2026, 10, 25, 2, 30, fold=0))
    assert is_working_time(cal, berlin(2026, 10, 25, 2, 30, fold=1))
    assert spring.strftime("%a") == autumn.strftime("%a") == "Sun"


def test_period_boundary_in_skipped_hour_moves_to_transition() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin", weekly={"sun": ["02:30-05:00"]})
    # 02:30 does not exist on 2026-03-29: the period starts at 03:00 CEST (01:00 UTC).
    assert business_time_between(cal, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == 2 * H
    assert add_business_time(cal, berlin(2026, 3, 29, 0, 0), H) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)

    gap_only = BusinessCalendar(
        timezone="Europe/Berlin", weekly={"sun": ["02:15-02:45"], "mon": ["09:00-10:00"]}
    )
    assert business_time_between(gap_only, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == timedelta(
        0
    )
    assert add_business_time(gap_only, berlin(2026, 3, 29, 0, 0), H) == berlin(2026, 3, 30, 10, 0)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period",
    ["9:00-18:00", "09:00", "09:00-18:60", "25:00-26:00", "09:00-24:30", "18:00-09:00", "10:00-10:00", "x"],
)
def test_bad_period_is_rejected_naming_it(period: str) -> None:
    with pytest.raises(ValidationError) as info:
        BusinessCalendar(weekly={"mon": [period]})
    assert repr(period) in str(info.value)
    assert "weekly.mon" in str(info.value)


def test_parse_period() -> None:
    assert parse_period("09:00-18:00") == (540, 1080)
    assert parse_period("18:00-24:00") == (1080, 1440)
    assert parse_period(" 09:00 - 12:30 ") == (540, 750)
    with pytest.raises(ValueError, match="'24:00-24:00'"):
        parse_period("24:00-24:00")


def test_overlapping_periods_are_rejected() -> None:
    with pytest.raises(ValidationError, match="overlapping periods '09:00-12:00' and '11:00-13:00'"):
        BusinessCalendar(weekly={"tue": ["11:00-13:00", "09:00-12:00"]})
    BusinessCalendar(weekly={"tue": ["09:00-12:00", "12:00-13:00"]})  # touching is fine


def test_bad_workday_hours_are_rejected() -> None:
    with pytest.raises(ValidationError, match="'10-16'"):
        BusinessCalendar(workday_hours=["10-16"])


def test_date_in_both_holidays_and_workdays_is_rejected() -> None:
    with pytest.raises(ValidationError, match="2026-10-03"):
        BusinessCalendar(holidays=[date(2026, 10, 3)], workdays=["2026-10-03"])


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "utc+8", "", "Asia", "../etc/passwd"])
def test_unknown_timezone_is_rejected_naming_it(zone: str) -> None:
    with pytest.raises(ValidationError) as info:
        BusinessCalendar(timezone=zone)
    assert f"unknown timezone {zone!r}" in str(info.value)


def test_week_without_working_time_is_rejected() -> None:
    with pytest.raises(ValidationError, match="no working period"):
        BusinessCalendar(weekly={})
    with pytest.raises(ValidationError, match="no working period"):
        BusinessCalendar(weekly={"mon": [], "sat": []})
    BusinessCalendar(weekly={}, always=True)


def test_workdays_without_hours_are_rejected() -> None:
    with pytest.raises(ValidationError, match="workday_hours"):
        BusinessCalendar(weekly={"tue": ["09:00-18:00"]}, workdays=[date(2026, 9, 27)])
    BusinessCalendar(
        weekly={"tue": ["09:00-18:00"]}, workdays=[date(2026, 9, 27)], workday_hours=["09:00-17:00"]
    )


def test_unknown_fields_and_weekdays_are_rejected() -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar(weekdays={"mon": ["09:00-18:00"]})  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        BusinessCalendar.model_validate({"weekly": {"monday": ["09:00-18:00"]}})


def test_model_validate_from_yaml_like_data() -> None:
    cal = BusinessCalendar.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "weekly": {"mon": ["09:00-12:00", "13:00-18:00"], "fri": ["09:00-17:00"]},
            "holidays": ["2026-10-01", "2026-10-02"],
            "workdays": ["2026-09-27"],
            "label": {"zh": "工作日", "en": "Business days"},
        }
    )
    assert cal.holidays == [date(2026, 10, 1), date(2026, 10, 2)]
    assert cal.label == {"zh": "工作日", "en": "Business days"}


def test_naive_datetimes_and_negative_durations_are_rejected() -> None:
    cal = BusinessCalendar()
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(cal, datetime(2026, 3, 9, 10, 0), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(cal, sh(2026, 3, 9, 10, 0), datetime(2026, 3, 9, 11, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working_time(cal, datetime(2026, 3, 9, 10, 0))
    with pytest.raises(ValueError, match="negative"):
        add_business_time(cal, sh(2026, 3, 9, 10, 0), -H)


def test_no_working_time_within_ten_years_raises() -> None:
    mondays = [date(2026, 3, 9) + timedelta(weeks=i) for i in range(MAX_SEARCH_DAYS // 7 + 10)]
    cal = BusinessCalendar(weekly={"mon": ["09:00-18:00"]}, holidays=mondays)
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(cal, sh(2026, 3, 9, 8, 0), H)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


def _random_periods(rng: random.Random) -> list[str]:
    """Up to three non-overlapping periods on a quarter-hour grid (sometimes touching, DST hours)."""
    cuts = sorted(rng.sample(range(0, 97), 2 * rng.randint(1, 3)))
    periods = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        periods.append(f"{start // 4:02d}:{start % 4 * 15:02d}-{end // 4:02d}:{end % 4 * 15:02d}")
    return periods


def _random_calendar(rng: random.Random) -> BusinessCalendar:
    zone = rng.choice(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
    weekly = {
        d: _random_periods(rng) for d in rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], 4)
    }
    base = date(2026, 1, 1)
    special = rng.sample([base + timedelta(days=i) for i in range(400)], 60)
    return BusinessCalendar(
        timezone=zone,
        weekly=weekly,
        holidays=special[:40],
        workdays=special[40:],
        workday_hours=_random_periods(rng) if "mon" not in weekly or rng.random() < 0.5 else None,
    )


FIXED_CALENDARS = [
    BusinessCalendar(),
    prc_calendar(weekly={d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}),
    BusinessCalendar(
        timezone="Europe/Berlin",
        weekly={"sat": ["02:30-24:00"], "sun": ["01:00-04:00", "22:00-24:00"], "mon": ["00:00-24:00"]},
        holidays=[date(2026, 10, 26)],
        workdays=[date(2026, 3, 29), date(2026, 10, 25), date(2026, 10, 27)],
        workday_hours=["02:00-02:59"],
    ),
    BusinessCalendar(always=True, timezone="America/New_York"),
]


# Shortly before DST transitions (Berlin spring/autumn, New York spring, Lord Howe autumn).
DST_EVES = [datetime(2026, m, d, tzinfo=UTC) for m, d in [(3, 27), (10, 23), (3, 6), (4, 3)]]


def _random_instant(rng: random.Random) -> datetime:
    if rng.random() < 0.3:
        return rng.choice(DST_EVES) + timedelta(seconds=rng.randrange(4 * 86400))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return base + timedelta(seconds=rng.randrange(400 * 86400), microseconds=rng.randrange(10**6))


def _random_duration(rng: random.Random) -> timedelta:
    kind = rng.random()
    if kind < 0.1:
        return timedelta(0)
    if kind < 0.4:
        return timedelta(minutes=15 * rng.randint(1, 200))
    return timedelta(seconds=rng.randrange(200 * 3600), microseconds=rng.randrange(10**6))


@pytest.mark.parametrize("seed", range(20))
def test_round_trip_property(seed: int) -> None:
    rng = random.Random(seed)
    calendars = [*FIXED_CALENDARS, _random_calendar(rng), _random_calendar(rng)]
    for _ in range(40):
        cal = rng.choice(calendars)
        start, duration = _random_instant(rng), _random_duration(rng)
        start = start.astimezone(rng.choice([UTC, SHANGHAI, BERLIN]))
        end = add_business_time(cal, start, duration)
        assert end.tzinfo is UTC
        assert end >= start
        assert business_time_between(cal, start, end) == duration, (cal, start, duration, end)
        if duration > timedelta(0):
            # Minimal: the instant just before the result has not yet accumulated the duration,
            # and the last microsecond counted was working time.
            just_before = end - timedelta(microseconds=1)
            assert business_time_between(cal, start, just_before) < duration
            assert is_working_time(cal, just_before)
            # Splitting the duration gives the same result.
            first = duration * rng.random()
            if first > timedelta(0):
                assert add_business_time(cal, add_business_time(cal, start, first), duration - first) == end


@pytest.mark.parametrize("seed", range(5))
def test_between_is_additive(seed: int) -> None:
    rng = random.Random(1000 + seed)
    cal = _random_calendar(rng)
    for _ in range(20):
        a, b, c = sorted(_random_instant(rng) for _ in range(3))
        assert business_time_between(cal, a, b) + business_time_between(cal, b, c) == business_time_between(
            cal, a, c
        )
        assert business_time_between(cal, a, c) <= c - a


def test_long_durations_are_not_pathological() -> None:
    """Ninety days of business time (about a year of calendar time) is a plain day-by-day walk."""
    cal = prc_calendar(
        weekly={d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    start = sh(2026, 1, 5, 9, 0)
    duration = timedelta(days=90)
    end = add_business_time(cal, start, duration)
    assert business_time_between(cal, start, end) == duration
    # 90 x 24 h / 8 h per day = 270 working days, i.e. more than a calendar year.
    assert end.year == 2027
    for _ in range(100):
        add_business_time(cal, start, timedelta(days=90))


def test_remembered_deadlines_and_days_are_the_computed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A calendar's schedule remembers days and deadlines (bounded; cleared when full): answers given
    from memory, and after the memory was cleared, equal those of a calendar that remembers nothing."""
    from definitions import calendar as module

    monkeypatch.setattr(module, "_MEMO_LIMIT", 8)
    remembering = prc_calendar()
    rng = random.Random(7)
    asks = [
        (
            sh(2026, 9, 28) + timedelta(minutes=rng.randrange(0, 20 * 24 * 60)),
            timedelta(hours=rng.randrange(1, 60)),
        )
        for _ in range(40)
    ]
    for start, duration in asks * 2:  # the second round answers partly from memory
        fresh = prc_calendar()
        assert add_business_time(remembering, start, duration) == add_business_time(fresh, start, duration)
    schedule = module._Schedule.of(remembering)
    assert schedule is module._Schedule.of(remembering)
    assert 0 < len(schedule.deadlines) <= 8 and 0 < len(schedule.days) <= 8


def test_a_calendar_cannot_change_under_its_remembered_schedule() -> None:
    cal = prc_calendar()
    with pytest.raises(ValidationError):
        cal.timezone = "Europe/Berlin"
