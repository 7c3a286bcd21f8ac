"""The shared business calendars as they stand: the shipped file (version 0) with the administrators'
versions on top (`shared_calendar_versions`, never changed or deleted).

An administrator's version replaces the whole calendar (hours, holiday source, local days), is checked
like the shipped file and reaches records started after it; a running record keeps the version it
pinned when it started (workflows/shared_calendars.py), so a deadline already computed never moves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from cmdb.errors import invalid, not_found
from cmdb.issues import Issue
from definitions import shared_calendars
from definitions.calendar import BusinessCalendar
from definitions.shared_calendars import SharedCalendar
from schedule.tables import SharedCalendarVersionRow
from schedule.views import SharedCalendarIn, SharedCalendarOut

WARN_DAYS = 60


def _latest(session: Session, name: str) -> SharedCalendarVersionRow | None:
    return session.exec(
        select(SharedCalendarVersionRow)
        .where(SharedCalendarVersionRow.name == name)
        .order_by(col(SharedCalendarVersionRow.version).desc())
        .limit(1)
    ).first()


def current(session: Session, name: str) -> tuple[int, SharedCalendar]:
    """The calendar's version in force and its content; `NotFound` for a name the product does not ship."""
    shipped = shared_calendars.builtin().get(name)
    if shipped is None:
        raise not_found(f"shared calendar {name}", f"共享日历 {name}")
    row = _latest(session, name)
    if row is None:
        return 0, shipped
    return row.version, SharedCalendar.model_validate(row.body)


def resolve(session: Session, names: list[str]) -> dict[str, tuple[int, BusinessCalendar]]:
    """What a starting record pins: each named calendar's version and its resolved days."""
    out = {}
    for name in sorted(set(names)):
        version, calendar = current(session, name)
        out[name] = (version, calendar.resolved())
    return out


def describe(session: Session, name: str, today: date) -> SharedCalendarOut:
    version, calendar = current(session, name)
    resolved = calendar.resolved()
    until = calendar.declared_until()
    warn = until is None or until - today < timedelta(days=WARN_DAYS)
    label_zh, label_en = calendar.label["zh"], calendar.label["en"]
    shown = until.isoformat() if until else "—"
    return SharedCalendarOut(
        name=name,
        version=version,
        calendar=calendar,
        holidays=resolved.holidays,
        workdays=resolved.workdays,
        declared_until=until,
        warning=warn,
        message_en=f"the calendar “{label_en}” declares holidays only until {shown}" if warn else None,
        message_zh=f"日历“{label_zh}”只声明了到 {shown} 的节假日" if warn else None,
    )


def listing(session: Session, today: date) -> list[SharedCalendarOut]:
    return [describe(session, name, today) for name in sorted(shared_calendars.builtin_names())]


def update(session: Session, name: str, body: SharedCalendarIn, *, actor: str) -> SharedCalendarOut:
    """A new version of a shipped shared calendar; bad content is refused field by field, nothing written."""
    current(session, name)  # NotFound first
    data = {**body.calendar, "name": name}
    try:
        calendar = SharedCalendar.model_validate(data)
    except ValidationError as exc:
        raise invalid(
            [_issue(e) for e in exc.errors()],
            en="the calendar was not saved: each problem is listed with its field",
            zh="日历未保存：逐项列出了有问题的字段",
        ) from None
    except ValueError as exc:  # the holidays package refused the source
        raise invalid([Issue("holidays_from", str(exc), f"节假日来源无效：{exc}")]) from None
    top = session.exec(
        select(func.max(SharedCalendarVersionRow.version)).where(SharedCalendarVersionRow.name == name)
    ).one()
    row = SharedCalendarVersionRow(
        name=name,
        version=(top or 0) + 1,
        body=calendar.model_dump(mode="json"),
        note=body.note,
        created_by=actor,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return describe(session, name, datetime.now(UTC).date())


def _issue(error: object) -> Issue:
    assert isinstance(error, dict)
    path = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return Issue(path, message, f"无效：{message}")
