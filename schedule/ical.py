"""The schedule as an iCalendar document (RFC 5545) for calendar programs: one event per change (its
planned window, its conflicts in the description) and per freeze or maintenance window."""

from __future__ import annotations

from icalendar import Calendar, Event

from schedule.views import ScheduleOut

PRODID = "-//itilflow//change schedule//EN"


def render(schedule: ScheduleOut, *, name: str, lang: str, host: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for change in schedule.changes:
        event = Event()
        event.add("uid", f"change-{change.number}@{host}")
        event.add("summary", f"{change.number} {change.title}")
        event.add("dtstart", change.planned_start)
        event.add("dtend", change.planned_end)
        event.add("dtstamp", change.planned_start)
        lines = [f"{'状态' if lang == 'zh' else 'State'}: {change.state}"]
        lines += [c.message for c in change.conflicts]
        event.add("description", "\n".join(lines))
        if change.conflicts:
            event.add("categories", ["冲突" if lang == "zh" else "Conflict"])
        cal.add_component(event)
    for window in schedule.windows:
        event = Event()
        event.add("uid", f"window-{window.id}@{host}")
        label = {"freeze": ("封网", "Freeze"), "maintenance": ("维护窗口", "Maintenance")}[window.kind]
        title = window.title_zh if lang == "zh" else window.title_en
        event.add("summary", f"{label[0] if lang == 'zh' else label[1]}: {title}")
        event.add("dtstart", window.starts_at)
        event.add("dtend", window.ends_at)
        event.add("dtstamp", window.created_at)
        event.add("transp", "OPAQUE" if window.kind == "freeze" else "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())
