"""The change-schedule check a workflow asks for when a transition declares `schedule_check`: the
planned window against the freeze and maintenance windows (schedule/windows.py) and against the other
open records planned over the same time on the same or related CIs or with the same implementer
(schedule/conflicts.py). Both languages are answered: the workflow picks the actor's for a refusal and
keeps both in the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from cmdb.idlists import CHUNK, ids_in
from cmdb.tables import RelationRow
from core.tables import RecordCiRow
from schedule import conflicts, planned, windows
from schedule.views import CheckIn

MAX_OTHERS = 2000
_RELS: Table = RelationRow.__table__  # type: ignore[attr-defined]


def related(session: Session, cis: set[int]) -> dict[int, set[int]]:
    """Each CI's neighbours one CMDB relationship away, either direction (two indexed look-ups, the ids
    as one array parameter on PostgreSQL: a month's changes name a few thousand CIs)."""
    out: dict[int, set[int]] = {}
    if not cis:
        return out
    conn = session.connection()
    dialect = conn.dialect.name
    ids = sorted(cis)
    chunks = [ids] if dialect == "postgresql" else [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    for column in (_RELS.c.source_id, _RELS.c.target_id):
        query = core_select(_RELS.c.source_id, _RELS.c.target_id).where(ids_in(column, dialect))
        for chunk in chunks:
            for source, target in conn.execute(query, {"ids": chunk}):
                out.setdefault(source, set()).add(target)
                out.setdefault(target, set()).add(source)
    return out


def findings(
    session: Session,
    *,
    record_id: str,
    number: str,
    start: datetime,
    end: datetime,
    cis: list[int],
    implementer: str | None,
    ecab_approved: bool,
    maintenance_window: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(violations, conflicts), each a dict with `rule`, `message_en`, `message_zh` and, for a conflict,
    the `other` record's number, for a freeze the `window_id`."""
    violations: list[dict[str, Any]] = []
    if end > start:
        check = CheckIn(
            planned_start=start,
            planned_end=end,
            cis=cis,
            emergency_ecab_approved=ecab_approved,
            require_maintenance_window=maintenance_window,
        )
        en, zh = windows.check(session, check, "en"), windows.check(session, check, "zh")
        for a, b in zip(en.violations, zh.violations, strict=True):
            violations.append(
                {"rule": a.rule, "message_en": a.message, "message_zh": b.message, "window_id": a.window_id}
            )
    others = [
        (row, s, e)
        for row, s, e in planned.overlapping(session, start, end, MAX_OTHERS)
        if row.id != record_id and row.closed_at is None
    ]
    ids = [r.id for r, _, _ in others]
    ci_sets: dict[str, set[int]] = {i: set() for i in ids}
    if ids:
        for rid, ci_id in session.exec(
            select(RecordCiRow.record_id, RecordCiRow.ci_id).where(col(RecordCiRow.record_id).in_(ids))
        ):
            ci_sets[rid].add(ci_id)
    me = conflicts.Planned(number, start, end, implementer, set(cis))
    items = [me] + [
        conflicts.Planned(r.number, s, e, _user(r.fields.get("implementer")), ci_sets[r.id])
        for r, s, e in others
    ]
    near = related(session, set(cis).union(*ci_sets.values()))
    en_found = conflicts.between(items, near, "en")[number]
    zh_found = conflicts.between(items, near, "zh")[number]
    found = [
        {"rule": a.rule, "message_en": a.message, "message_zh": b.message, "other": a.other}
        for a, b in zip(en_found, zh_found, strict=True)
    ]
    return violations, found


def _user(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
