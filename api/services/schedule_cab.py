"""The CAB agenda over the read model: the records the caller may see in a CAB state, each with its
state's label, planned window and conflicts, grouped by meeting (schedule/agenda.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from api.auth import Principal
from api.problems import ProblemError
from api.services import definitions as defs
from api.services import schedule as forward
from api.services.lookup import may_see
from core.tables import RecordRow
from core.tables import aware_instant as when
from definitions.loader import load_text
from schedule import agenda
from schedule.views import AgendaItem, AgendaMeeting

MAX_RECORDS = 2000


def _label(session: Session, cache: dict[tuple[str, int], Any], row: RecordRow, lang: str) -> str:
    pair = (row.definition_key, row.definition_version)
    if pair not in cache:
        try:
            cache[pair] = load_text(defs.definition_row(session, *pair).source).definition
        except ProblemError:
            cache[pair] = None
    d = cache[pair]
    spec = d.state(row.state) if d is not None else None
    label = getattr(spec, "label", None) if spec is not None else None
    text = getattr(label, lang, None) or getattr(label, "en", None)
    return str(text) if text else row.state


def build(
    session: Session, user: Principal, *, states: list[str], weekday: int, weeks: int
) -> list[AgendaMeeting]:
    today = datetime.now(UTC).date()
    days = agenda.meetings(today, weekday, weeks)
    query = select(RecordRow).where(col(RecordRow.state).in_(states), col(RecordRow.final).is_(False))
    rows = session.exec(query.order_by(col(RecordRow.created_at)).limit(MAX_RECORDS))
    cache: dict[tuple[str, int], Any] = {}
    items: list[AgendaItem] = []
    for row in rows:
        if not may_see(
            session,
            user,
            row.id,
            row.requester,
            row.assignee,
            row.fields,
            (row.definition_key, row.definition_version),
        ):
            continue
        start = when(row.fields.get("planned_start"))
        end = when(row.fields.get("planned_end"))
        conflicts: list[str] = []
        if start is not None and end is not None and start < end:
            around = forward.forward(session, user, start, end, ci=None, group=None)
            mine = next((c for c in around.changes if c.number == row.number), None)
            conflicts = [c.message for c in mine.conflicts] if mine else []
        items.append(
            AgendaItem(
                number=row.number,
                title=row.title,
                state=row.state,
                state_label=_label(session, cache, row, user.language),
                planned_start=start,
                planned_end=end,
                conflicts=conflicts,
            )
        )
    items.sort(key=lambda i: (i.planned_start or datetime.max.replace(tzinfo=UTC), i.number))
    return agenda.group(items, days)
