"""The forward schedule: the records with a planned window (`planned_start`, `planned_end`) in a range,
as far as the caller may see them, with their conflicts, and the windows in the range (003 §11.2:
keep the change schedule and communicate it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from api.auth import Principal
from api.services.lookup import may_see
from cmdb.tables import RelationRow
from core.tables import RecordCiRow, RecordRow
from schedule import conflicts, windows
from schedule.views import CheckIn, ConflictOut, ScheduledChange, ScheduleOut

MAX_RECORDS = 2000
MARGIN = timedelta(days=1)
TEXT = "%Y-%m-%dT%H:%M:%S"


def when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _related(session: Session, cis: set[int]) -> dict[int, set[int]]:
    """Each CI's neighbours one CMDB relationship away, either direction."""
    out: dict[int, set[int]] = {}
    if not cis:
        return out
    rows = session.exec(
        select(RelationRow.source_id, RelationRow.target_id).where(
            or_(col(RelationRow.source_id).in_(cis), col(RelationRow.target_id).in_(cis))
        )
    )
    for source, target in rows:
        out.setdefault(source, set()).add(target)
        out.setdefault(target, set()).add(source)
    return out


def forward(
    session: Session, user: Principal, start: datetime, end: datetime, *, ci: int | None, group: str | None
) -> ScheduleOut:
    # Planned dates are ISO 8601 text with the writer's UTC offset (definitions/fieldvalues.py): compared
    # as text with a day's margin either side (offsets are at most 14 hours), then exactly in Python.
    planned_start = col(RecordRow.fields)["planned_start"].as_string()
    planned_end = col(RecordRow.fields)["planned_end"].as_string()
    query = select(RecordRow).where(
        planned_start < (end + MARGIN).strftime(TEXT), planned_end > (start - MARGIN).strftime(TEXT)
    )
    if group:
        query = query.where(RecordRow.assignment_group == group)
    rows = list(session.exec(query.order_by(planned_start).limit(MAX_RECORDS + 1)))
    truncated = len(rows) > MAX_RECORDS
    planned: list[tuple[RecordRow, datetime, datetime]] = []
    for row in rows[:MAX_RECORDS]:
        s, e = when(row.fields.get("planned_start")), when(row.fields.get("planned_end"))
        if s is None or e is None or not (s < end and start < e):
            continue
        if may_see(
            session,
            user,
            row.id,
            row.requester,
            row.assignee,
            row.fields,
            (row.definition_key, row.definition_version),
        ):
            planned.append((row, s, e))
    ids = [r.id for r, _, _ in planned]
    cis: dict[str, set[int]] = {i: set() for i in ids}
    if ids:
        for record_id, ci_id in session.exec(
            select(RecordCiRow.record_id, RecordCiRow.ci_id).where(col(RecordCiRow.record_id).in_(ids))
        ):
            cis[record_id].add(ci_id)
    if ci is not None:
        planned = [p for p in planned if ci in cis[p[0].id]]
    items = [
        conflicts.Planned(r.number, s, e, _implementer(r.fields.get("implementer")), cis[r.id])
        for r, s, e in planned
    ]
    found = conflicts.between(
        items, _related(session, set().union(*cis.values()) if cis else set()), user.language
    )
    changes = []
    freezes = windows.in_force(session, start, end, kind="freeze")
    for row, s, e in sorted(planned, key=lambda p: (p[1], p[0].number)):
        check = windows.check(
            session, CheckIn(planned_start=s, planned_end=e, cis=sorted(cis[row.id])), user.language, freezes
        )
        clashes = found[row.number] + [
            ConflictOut(rule=v.rule, other=None, message=v.message) for v in check.violations
        ]
        changes.append(
            ScheduledChange(
                number=row.number,
                title=row.title,
                process=row.definition_key,
                state=row.state,
                planned_start=s,
                planned_end=e,
                implementer=_implementer(row.fields.get("implementer")),
                assignment_group=row.assignment_group,
                cis=sorted(cis[row.id]),
                conflicts=clashes,
            )
        )
    shown = windows.listing(session, start, end, kind=None, ci=ci)
    return ScheduleOut(changes=changes, windows=shown, truncated=truncated)


def _implementer(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
