"""Reading the read model for the indicators: records of one definition in a period, with their trail.

The read model keeps UTC times; the formulas compare them as naive UTC (a period or a date field given
without an offset means UTC), so that values from SQLite, PostgreSQL and ISO strings mix safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from core.tables import ApprovalRow, AuditRow, DefinitionRow, RecordRow
from definitions.loader import load_text
from reports.model import Approval, Event, Facts, Period

CHUNK = 500  # ids per IN (...) query: well under every database's bound-parameter limit

# Used when neither the stored definition nor any record tells a state's category.
CATEGORY_BY_NAME = {
    "new": "new",
    "resolved": "resolved",
    "closed": "closed",
    "cancelled": "closed",
    "canceled": "closed",
    "rejected": "closed",
}


def naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def aware_utc(value: datetime | None) -> datetime | None:
    """For query parameters: the read model's columns take timezone-aware UTC (naive means UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


_RECORD: tuple[Any, ...] = (
    RecordRow.id,
    RecordRow.number,
    RecordRow.definition_key,
    RecordRow.state,
    RecordRow.state_category,
    RecordRow.final,
    RecordRow.fields,
    # Of the snapshot (the largest column) the formulas read only the clocks and the links: decoding the
    # whole of it was most of a month's report at 100,000 incidents (bench/README.md).
    col(RecordRow.snapshot)["slas"],
    col(RecordRow.snapshot)["links"],
    RecordRow.created_at,
    RecordRow.resolved_at,
    RecordRow.closed_at,
)
_AUDIT: tuple[Any, ...] = (
    AuditRow.record_id,
    AuditRow.seq,
    AuditRow.at,
    AuditRow.actor,
    AuditRow.action,
    AuditRow.from_state,
    AuditRow.to_state,
    AuditRow.details,
)
_APPROVAL: tuple[Any, ...] = (
    ApprovalRow.record_id,
    ApprovalRow.id,
    ApprovalRow.step,
    ApprovalRow.level,
    ApprovalRow.state,
    ApprovalRow.opened_at,
    ApprovalRow.closed_at,
)


def load_facts(session: Session, *, definition: str, period: Period) -> list[Facts]:
    """Every record of `definition` created in the period, with its audit events and approvals.

    Columns are read as plain rows, not ORM objects: a year's incidents are hundreds of thousands of
    rows, and building an object per row was most of a KPI report's time."""
    query = columns(*_RECORD).where(col(RecordRow.definition_key) == definition)
    start, end = aware_utc(period.start), aware_utc(period.end)
    if start is not None:
        query = query.where(col(RecordRow.created_at) >= start)
    if end is not None:
        query = query.where(col(RecordRow.created_at) < end)
    rows = session.execute(query.order_by(col(RecordRow.created_at), col(RecordRow.id))).all()
    facts = {
        rid: Facts(
            id=rid,
            number=number,
            definition=key,
            state=state,
            state_category=category,
            final=final,
            fields=dict(fields or {}),
            snapshot={"slas": slas or [], "links": links or []},
            created_at=naive_utc(created) or created,
            resolved_at=naive_utc(resolved),
            closed_at=naive_utc(closed),
        )
        for rid, number, key, state, category, final, fields, slas, links, created, resolved, closed in rows
    }
    ids = list(facts)
    for part in _chunks(ids):
        audit = session.execute(
            columns(*_AUDIT).where(col(AuditRow.record_id).in_(part)).order_by(col(AuditRow.seq))
        ).all()
        for record_id, seq, at, actor, action, from_state, to_state, details in audit:
            facts[record_id].events.append(
                Event(
                    seq=seq,
                    at=naive_utc(at) or at,
                    actor=actor,
                    action=action,
                    from_state=from_state,
                    to_state=to_state,
                    details=dict(details or {}),
                )
            )
        approvals = session.execute(columns(*_APPROVAL).where(col(ApprovalRow.record_id).in_(part))).all()
        for record_id, aid, step, level, state, opened, closed in approvals:
            facts[record_id].approvals.append(
                Approval(
                    id=aid,
                    step=step,
                    level=level,
                    state=state,
                    opened_at=naive_utc(opened) or opened,
                    closed_at=naive_utc(closed),
                )
            )
    for f in facts.values():
        f.events.sort(key=lambda e: e.seq)
        f.approvals.sort(key=lambda p: (p.opened_at, p.id))
    return list(facts.values())


def state_categories(session: Session, definition: str, facts: Iterable[Facts]) -> dict[str, str]:
    """State name -> category, from the stored definition versions, then from the records themselves."""
    out: dict[str, str] = {}
    rows = session.exec(
        select(DefinitionRow).where(DefinitionRow.key == definition).order_by(col(DefinitionRow.version))
    ).all()
    for row in rows:  # later versions win: a renamed category follows the newest definition
        result = load_text(row.source)
        if result.definition is not None:
            out.update({s.name: s.category for s in result.definition.states})
    for f in facts:
        out.setdefault(f.state, f.state_category)
    return out


def category_of(categories: dict[str, str], state: str | None) -> str | None:
    if state is None:
        return None
    return categories.get(state) or CATEGORY_BY_NAME.get(state)


def count_linked(session: Session, *, definition: str, period: Period, field: str) -> tuple[int, int]:
    """(records of `definition` in the period with `field` set, all such records): for cross-process
    indicators such as change-caused incidents. Counted in the database."""
    value = col(RecordRow.fields)[field].as_string()
    query = columns(
        func.count(), func.count().filter(value.is_not(None) & value.not_in(["", "[]", "null"]))
    ).where(col(RecordRow.definition_key) == definition)
    start, end = aware_utc(period.start), aware_utc(period.end)
    if start is not None:
        query = query.where(col(RecordRow.created_at) >= start)
    if end is not None:
        query = query.where(col(RecordRow.created_at) < end)
    total, linked = session.execute(query).one()
    return int(linked), int(total)


def definition_known(session: Session, key: str) -> bool:
    """The key names a stored definition or has records (the indicators of an unknown key are a typo)."""
    stored = session.exec(select(DefinitionRow.id).where(DefinitionRow.key == key).limit(1)).first()
    if stored is not None:
        return True
    return (
        session.exec(select(RecordRow.id).where(RecordRow.definition_key == key).limit(1)).first() is not None
    )
