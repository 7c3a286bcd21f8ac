"""A schedule's occurrence placeholders (issue 21: a monthly service report covers the month before the
day it starts and is due some working days later), resolved in the schedule's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from definitions.calendar import BusinessCalendar
from recurring import occurrence_values
from recurring.errors import ScheduleError

# 2026 National Day: 1-8 October off, Saturday 10 October worked (调休).
PRC = BusinessCalendar(
    timezone="Asia/Shanghai",
    holidays=[date(2026, 10, d) for d in range(1, 9)],
    workdays=[date(2026, 10, 10)],
)


def test_the_month_and_quarter_before_and_offsets() -> None:
    # 9 October 2026, 09:00 in Shanghai: the first working day after the National Day holidays.
    at = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)
    fields = {
        "agreement": "ebank",
        "period_start": "$previous_month.start",
        "period_end": "$previous_month.end",
        "q_start": "$previous_quarter.start",
        "q_end": "$previous_quarter.end",
        "due_date": "$occurrence+3wd",
        "reminder": "$occurrence+5d",
        "opened": "$occurrence",
    }
    got = occurrence_values.resolve(fields, at, PRC)
    assert got["agreement"] == "ebank"  # other values pass unchanged
    assert got["period_start"] == "2026-09-01T00:00:00+08:00"
    assert got["period_end"] == "2026-10-01T00:00:00+08:00"
    assert got["q_start"] == "2026-07-01T00:00:00+08:00"
    assert got["q_end"] == "2026-10-01T00:00:00+08:00"
    # Three working days after Friday the 9th: Saturday 10th (调休), Monday 12th, Tuesday 13th.
    assert got["due_date"] == "2026-10-13T09:00:00+08:00"
    assert got["reminder"] == "2026-10-14T09:00:00+08:00"
    assert got["opened"] == "2026-10-09T09:00:00+08:00"


def test_january_reaches_back_into_the_previous_year() -> None:
    at = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
    got = occurrence_values.resolve({"a": "$previous_month.start", "b": "$previous_quarter.start"}, at, PRC)
    assert got == {"a": "2026-12-01T00:00:00+08:00", "b": "2026-10-01T00:00:00+08:00"}


@pytest.mark.parametrize(
    "bad", ["$occurrence+3w", "$previous_month", "$previous_year.start", "$occurrence-1d"]
)
def test_an_unknown_placeholder_is_refused_naming_the_field(bad: str) -> None:
    if not occurrence_values.is_placeholder(bad):
        pytest.skip("not a placeholder form: passes as a value")
    with pytest.raises(ScheduleError) as caught:
        occurrence_values.check({"due_date": bad})
    assert caught.value.path == "fields.due_date"
    assert "无法识别的占位符" in caught.value.zh and "unknown placeholder" in caught.value.en
