"""Whether the business calendars in use still declare their holidays far enough ahead: a calendar
whose last declared holiday or make-up working day is within `WARN_DAYS` days (or past) is warned
about, since after that date every weekday counts as a working day and SLA and notice-period
arithmetic silently goes wrong over the Spring Festival. A definition's reference to a shared calendar
is judged by the shared calendar in force (its holiday source's declared years and local days)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from core.tables import DefinitionRow
from definitions.loader import load_text
from definitions.model import Definition
from definitions.shared_calendars import SharedCalendar
from schedule import shared_store
from schedule.views import CalendarStatus

WARN_DAYS = shared_store.WARN_DAYS


def status(
    definitions: Iterable[Definition], today: date, shared: Mapping[str, SharedCalendar] | None = None
) -> list[CalendarStatus]:
    """Each calendar of each definition; `shared` gives the shared calendars in force by name."""
    out = []
    for d in definitions:
        for name, cal in sorted(d.calendars.items()):
            if cal.always:
                continue
            label = cal.label
            if cal.shared is not None:
                found = (shared or {}).get(cal.shared)
                declared = found.declared_until() if found else None
                label = label or (found.label if found else None)
            else:
                declared = max([*cal.holidays, *cal.workdays], default=None)
            warn = declared is None or declared - today < timedelta(days=WARN_DAYS)
            en = zh = None
            if warn:
                until = declared.isoformat() if declared else "—"
                label_en = (label or {}).get("en", name)
                label_zh = (label or {}).get("zh", name)
                en = f"the calendar “{label_en}” of {d.title.en} declares holidays only until {until}"
                zh = f"{d.title.zh}的日历“{label_zh}”只声明了到 {until} 的节假日"
            out.append(
                CalendarStatus(
                    process=d.key,
                    calendar=name,
                    shared=cal.shared,
                    declared_until=declared,
                    warning=warn,
                    message_en=en,
                    message_zh=zh,
                )
            )
    return out


def in_use(session: Session, today: date | None = None) -> list[CalendarStatus]:
    """The calendars of the published definitions (shared ones as they stand now)."""
    today = today or datetime.now(UTC).date()
    rows = session.exec(select(DefinitionRow).where(DefinitionRow.status == "published"))
    parsed = [load_text(r.source).definition for r in rows]
    shared = {c.name: c.calendar for c in shared_store.listing(session, today)}
    return status([d for d in parsed if d is not None], today, shared)


def warnings(session: Session, today: date | None = None) -> list[CalendarStatus]:
    """Only the calendars in use that run out of declared holidays within `WARN_DAYS` days."""
    return [c for c in in_use(session, today) if c.warning]
