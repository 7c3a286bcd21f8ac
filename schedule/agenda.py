"""The CAB agenda: which meeting each change awaiting the CAB goes to. The CAB meets weekly on a given
day; a change goes to the last meeting at least one day before its planned start (the CAB approves
before the work), or, when that meeting has passed or it has no planned start, to the next one (`late`
when its planned start comes before that meeting)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

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


def as_text(agenda: Sequence[AgendaMeeting], lang: str, tz: str = "Asia/Shanghai") -> tuple[str, str]:
    """The agenda as an e-mail to a CAB member: (subject, plain-text body) in `lang`, times in `tz`."""
    zone = ZoneInfo(tz)
    zh = lang == "zh"
    count = sum(len(m.changes) for m in agenda)
    first = agenda[0].date.isoformat() if agenda else ""
    subject = (
        f"变更委员会议程：{first} 起共 {count} 项变更"
        if zh
        else f"CAB agenda: {count} change(s) from {first}"
    )
    lines: list[str] = []
    for meeting in agenda:
        lines.append(
            f"== {meeting.date.isoformat()} ==" if not zh else f"== {meeting.date.isoformat()} 会议 =="
        )
        if not meeting.changes:
            lines.append("（无待审变更）" if zh else "(no change awaits this meeting)")
        for c in meeting.changes:
            window = "—"
            if c.planned_start and c.planned_end:
                start, end = c.planned_start.astimezone(zone), c.planned_end.astimezone(zone)
                window = f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
            late = (" [逾期]" if zh else " [late]") if c.late else ""
            lines.append(
                f"- {c.number} {c.title}（{c.state_label}）{late}"
                if zh
                else f"- {c.number} {c.title} ({c.state_label}){late}"
            )
            lines.append(f"  {'计划时间' if zh else 'Planned'}: {window} ({tz})")
            for conflict in c.conflicts:
                lines.append(f"  ⚠ {conflict}")
        lines.append("")
    return subject, "\n".join(lines).rstrip() + "\n"
