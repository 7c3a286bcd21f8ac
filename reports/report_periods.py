"""The periods a service report compares itself with: the previous calendar months when the period is a
calendar month (in the time zone its start was given in: a month in Asia/Shanghai starts at 00:00 +08:00),
else the previous periods of the same length, back to back."""

from __future__ import annotations

from datetime import datetime, time


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def is_month(start: datetime, end: datetime) -> bool:
    return start.day == 1 and start.timetz().replace(tzinfo=None) == time(0) and end == _add_months(start, 1)


def label(start: datetime, end: datetime) -> str:
    """How people name the period: 2026-11 for a calendar month, else its first and last day."""
    if is_month(start, end):
        return start.strftime("%Y-%m")
    last = (
        end
        if end.timetz().replace(tzinfo=None) != time(0)
        else end.fromtimestamp(end.timestamp() - 1, end.tzinfo)
    )
    return f"{start.date().isoformat()}–{last.date().isoformat()}"


def previous(start: datetime, end: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """The `count` periods before [start, end), oldest first, then [start, end) itself."""
    out = [(start, end)]
    for i in range(1, count + 1):
        if is_month(start, end):
            out.append((_add_months(start, -i), _add_months(start, -i + 1)))
        else:
            length = end - start
            out.append((start - i * length, end - i * length))
    return sorted(out)
