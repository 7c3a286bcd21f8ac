"""Whether the business calendars in use still declare their holidays far enough ahead: a calendar
whose last declared holiday or make-up working day is within `WARN_DAYS` days (or past) is warned
about, since after that date every weekday counts as a working day and SLA and notice-period
arithmetic silently goes wrong over the Spring Festival."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from definitions.model import Definition
from schedule.views import CalendarStatus

WARN_DAYS = 60


def status(definitions: Iterable[Definition], today: date) -> list[CalendarStatus]:
    out = []
    for d in definitions:
        for name, cal in sorted(d.calendars.items()):
            if cal.always:
                continue
            declared = max([*cal.holidays, *cal.workdays], default=None)
            warn = declared is None or declared - today < timedelta(days=WARN_DAYS)
            en = zh = None
            if warn:
                until = declared.isoformat() if declared else "—"
                en = f"calendar {name} of {d.title.en} declares holidays only until {until}"
                zh = f"{d.title.zh}的日历 {name} 只声明了到 {until} 的节假日"
            out.append(
                CalendarStatus(
                    process=d.key,
                    calendar=name,
                    declared_until=declared,
                    warning=warn,
                    message_en=en,
                    message_zh=zh,
                )
            )
    return out
