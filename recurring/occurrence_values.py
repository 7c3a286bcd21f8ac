"""Field values a schedule gives each record that depend on the occurrence (issue 21).

A monthly service report started on the first working day of December covers November and is due a
few working days later: its fields cannot be fixed once, when the schedule is made. A schedule's field
value may therefore be one of these placeholders, resolved in the schedule's calendar (its timezone,
its working days) for each occurrence as the record starts:

| placeholder | value |
|---|---|
| `$occurrence` | the instant the occurrence is due |
| `$occurrence+5d` / `$occurrence+3wd` | 5 calendar days / 3 working days later, same local time |
| `$previous_month.start` / `.end` | local midnight opening the month before / the occurrence's month |
| `$previous_quarter.start` / `.end` | the same for the quarter before |

Periods are half-open: `end` is the first instant after the period, as the reports read them. Any
other string starting with `$occurrence`, `$previous_month` or `$previous_quarter` is refused when the
schedule is made, naming the field; every other value passes unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from definitions.calendar import BusinessCalendar
from definitions.dates import shifted
from definitions.model_parts import DateOffset
from recurring.errors import ScheduleError

_PREFIXES = ("$occurrence", "$previous_month", "$previous_quarter")
_OFFSET = re.compile(r"\$occurrence(?:\+(\d{1,4})(d|wd))?")
_PERIOD = re.compile(r"\$previous_(month|quarter)\.(start|end)")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_PREFIXES)


def check(fields: Mapping[str, Any]) -> None:
    """ScheduleError for a placeholder that is not one of the forms above."""
    for name, value in fields.items():
        if is_placeholder(value) and not (_OFFSET.fullmatch(value) or _PERIOD.fullmatch(value)):
            raise ScheduleError(
                f"fields.{name}",
                f"unknown placeholder {value!r}: use $occurrence, $occurrence+Nd, $occurrence+Nwd, "
                "$previous_month.start/.end or $previous_quarter.start/.end",
                f"无法识别的占位符 {value!r}：可用 $occurrence、$occurrence+N天(d)、"
                "$occurrence+N个工作日(wd)、$previous_month.start/.end、$previous_quarter.start/.end",
            )


def resolve(fields: Mapping[str, Any], occurrence: datetime, cal: BusinessCalendar) -> dict[str, Any]:
    """The fields with each placeholder replaced by its ISO 8601 instant for this occurrence."""
    return {
        name: _value(value, occurrence, cal) if is_placeholder(value) else value
        for name, value in fields.items()
    }


def _value(placeholder: str, occurrence: datetime, cal: BusinessCalendar) -> str:
    tz = ZoneInfo(cal.timezone)
    local = occurrence.astimezone(tz)
    if (offset := _OFFSET.fullmatch(placeholder)) is not None:
        amount, unit = offset.group(1), offset.group(2)
        if amount is None:
            return local.isoformat()
        step = (
            DateOffset(days=int(amount))
            if unit == "d"
            else DateOffset(working_days=int(amount), calendar="schedule")
        )
        return shifted(local, step, cal).astimezone(tz).isoformat()
    period = _PERIOD.fullmatch(placeholder)
    assert period is not None, placeholder  # check() refused every other form
    months = 1 if period.group(1) == "month" else 3
    this_start = date(local.year, local.month, 1)
    if months == 3:
        this_start = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    edge = this_start if period.group(2) == "end" else _months_before(this_start, months)
    return datetime.combine(edge, time(0), tz).isoformat()


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
