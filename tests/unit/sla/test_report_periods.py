"""A monthly service report's trend steps by calendar months in the reader's time zone; other periods
by their own length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sla.report_sections import _periods

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_month_steps_back_by_calendar_months() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=SHANGHAI), datetime(2026, 4, 1, tzinfo=SHANGHAI)
    got = _periods(start, end)
    assert [s.strftime("%Y-%m-%d") for s, _ in got] == [
        "2025-10-01",
        "2025-11-01",
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]
    assert all(e == (s.replace(month=s.month % 12 + 1, year=s.year + s.month // 12)) for s, e in got)


def test_a_week_steps_back_by_weeks() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    got = _periods(start, start + timedelta(days=7))
    assert got[0][0] == start - timedelta(days=35) and got[-1] == (start, start + timedelta(days=7))
