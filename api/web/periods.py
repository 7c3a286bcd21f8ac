"""The dashboard's periods, in the organisation's time zone (setting `timezone`, default Asia/Shanghai):
a preset of the last N days ends with today there, a date typed in the page is that day there (the "to"
day included), and the trend compares the calendar months (or weeks, for the 7-day preset) before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request

from api.problems import unprocessable
from core.settings import Settings
from reports.model import Period

PRESETS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
TREND_PERIODS = 6


def org_zone(request: Request) -> ZoneInfo:
    settings: Settings = request.app.state.settings
    return ZoneInfo(settings.timezone)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        message = f"not a date (YYYY-MM-DD): {text!r}"
        raise unprocessable(
            message, [{"path": name, "message": message}], zh=f"不是日期（年-月-日）：{text!r}"
        ) from None


def chosen_period(
    preset: str, start: str | None, end: str | None, zone: ZoneInfo, today: date | None = None
) -> tuple[Period, str]:
    """The period the page shows and the preset it came from ("" for typed dates)."""
    today = today or datetime.now(zone).date()
    if start or end:
        first = _day(start, "from") if start else None
        last = _day(end, "to") if end else None
        if first and last and last < first:
            raise unprocessable(
                "the period ends before it starts",
                [{"path": "to", "message": "before 'from'"}],
                zh="期间的结束早于开始",
            )
        return Period(
            start=midnight(first, zone) if first else None,
            end=midnight(last + timedelta(days=1), zone) if last else None,
        ), ""
    if preset == "all":
        return Period(), "all"
    used = preset if preset in PRESETS else "30d"
    first = today - timedelta(days=PRESETS[used] - 1)
    return Period(start=midnight(first, zone), end=midnight(today + timedelta(days=1), zone)), used


@dataclass(frozen=True)
class TrendPeriod:
    start: datetime
    end: datetime
    label: str


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def trend_periods(
    period: Period, preset: str, zone: ZoneInfo, today: date | None = None
) -> list[TrendPeriod]:
    """The last TREND_PERIODS weeks (7-day preset) or calendar months up to the period's end, oldest
    first, in the organisation's time zone."""
    last_day = (period.end.astimezone(zone) - timedelta(microseconds=1)).date() if period.end else None
    last_day = last_day or today or datetime.now(zone).date()
    out = []
    if preset == "7d":
        monday = last_day - timedelta(days=last_day.weekday())
        for back in range(TREND_PERIODS - 1, -1, -1):
            first = monday - timedelta(weeks=back)
            out.append(
                TrendPeriod(
                    midnight(first, zone), midnight(first + timedelta(days=7), zone), f"{first:%m-%d}"
                )
            )
        return out
    for back in range(TREND_PERIODS - 1, -1, -1):
        first = _month_start(last_day, back)
        following = _month_start(last_day, back - 1)
        out.append(TrendPeriod(midnight(first, zone), midnight(following, zone), f"{first:%Y-%m}"))
    return out
