"""The CAB agenda: which meeting each change awaiting the CAB goes to. The CAB meets weekly on a given
day; a change goes to the last meeting at least one day before its planned start (the CAB approves
before the work), or, when that meeting has passed or it has no planned start, to the next one (`late`
when its planned start comes before that meeting)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta

from schedule.views import AgendaItem, AgendaMeeting


def meetings(today: date, weekday: int, weeks: int) -> list[date]:
    """The next `weeks` meeting days from today (weekday: 1 Monday … 7 Sunday)."""
    first = today + timedelta(days=(weekday - today.isoweekday()) % 7)
    return [first + timedelta(weeks=i) for i in range(weeks)]


def group(items: Sequence[AgendaItem], days: list[date]) -> list[AgendaMeeting]:
    by_day: dict[date, list[AgendaItem]] = {d: [] for d in days}
    for item in items:
        start = item.planned_start.date() if item.planned_start else None
        before = [d for d in days if start is not None and d <= start - timedelta(days=1)]
        day = before[-1] if before else days[0]
        item.late = start is not None and start <= day
        by_day[day].append(item)
    return [AgendaMeeting(date=d, changes=by_day[d]) for d in days]


HEADERS = {
    "en": ["Meeting", "Change", "Title", "State", "Planned start", "Planned end", "Late", "Conflicts"],
    "zh": ["会议日期", "变更", "标题", "状态", "计划开始", "计划结束", "晚于会议", "冲突"],
}


def to_csv(agenda: Sequence[AgendaMeeting], lang: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS["zh" if lang == "zh" else "en"])
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    for meeting in agenda:
        for c in meeting.changes:
            writer.writerow(
                [
                    meeting.date.isoformat(),
                    c.number,
                    c.title,
                    c.state_label,
                    c.planned_start.isoformat() if c.planned_start else "",
                    c.planned_end.isoformat() if c.planned_end else "",
                    yes if c.late else no,
                    "; ".join(c.conflicts),
                ]
            )
    return out.getvalue()
