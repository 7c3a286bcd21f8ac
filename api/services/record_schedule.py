"""A record's place in the change schedule, for the API and the record page: the same check the
workflow makes when a change is submitted or started (schedule/record_check.py), run now, with the
conflicts limited to the changes the caller may see."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from api.auth import Principal
from api.services.lookup import find_record, may_see
from core.tables import RecordCiRow, RecordRow, aware_instant
from schedule import record_check
from schedule.views import ConflictOut, RecordScheduleOut


def record_schedule(session: Session, user: Principal, ref: str, lang: str) -> RecordScheduleOut:
    row = find_record(session, ref=ref, user=user)  # 404 unless the caller may see it
    start = aware_instant(row.fields.get("planned_start"))
    end = aware_instant(row.fields.get("planned_end"))
    cis = sorted(
        set(session.exec(select(RecordCiRow.ci_id).where(col(RecordCiRow.record_id) == row.id)).all())
    )
    out = RecordScheduleOut(
        number=row.number, planned_start=start, planned_end=end, cis=cis, violations=[], conflicts=[]
    )
    if start is None or end is None or end <= start:
        return out
    implementer = row.fields.get("implementer")
    violations, conflicts = record_check.findings(
        session,
        record_id=row.id,
        number=row.number,
        start=start,
        end=end,
        cis=cis,
        implementer=implementer if isinstance(implementer, str) and implementer else None,
        ecab_approved=False,
        maintenance_window=False,
    )
    key = "message_zh" if lang == "zh" else "message_en"
    out.violations = [ConflictOut(rule=v["rule"], other=None, message=v[key]) for v in violations]
    out.conflicts = [
        ConflictOut(rule=c["rule"], other=c["other"], message=c[key])
        for c in conflicts
        if _visible(session, user, c["other"])
    ]
    return out


def _visible(session: Session, user: Principal, number: Any) -> bool:
    other = session.exec(select(RecordRow).where(RecordRow.number == number)).first()
    return other is not None and may_see(
        session,
        user,
        other.id,
        other.requester,
        other.assignee,
        other.fields,
        (other.definition_key, other.definition_version),
    )
