"""The forward schedule: the records with a planned window (`planned_start`, `planned_end`) in a range,
as far as the caller may see them, with their conflicts, and the windows in the range (003 §11.2:
keep the change schedule and communicate it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.auth import Principal
from api.services.lookup import may_see
from core.tables import RecordCiRow, RecordRow
from schedule import conflicts, windows
from schedule import planned as planned_index
from schedule.record_check import related
from schedule.views import CheckIn, ConflictOut, ScheduledChange, ScheduleOut

MAX_RECORDS = 2000


def forward(
    session: Session, user: Principal, start: datetime, end: datetime, *, ci: int | None, group: str | None
) -> ScheduleOut:
    rows = planned_index.overlapping(session, start, end, MAX_RECORDS + 1, group=group)
    truncated = len(rows) > MAX_RECORDS
    planned: list[tuple[RecordRow, datetime, datetime]] = []
    for row, s, e in rows[:MAX_RECORDS]:
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
        items, related(session, set().union(*cis.values()) if cis else set()), user.language
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
