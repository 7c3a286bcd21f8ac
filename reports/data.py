"""Reading the read model for the indicators: records of one definition in a period, with their trail.

The read model keeps UTC times; the formulas compare them as naive UTC (a period or a date field given
without an offset means UTC), so that values from SQLite, PostgreSQL and ISO strings mix safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select as core_select
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


def load_facts(session: Session, *, definition: str, period: Period) -> list[Facts]:
    """Every record of `definition` created in the period, with its audit events and approvals."""
    # Only the parts of the snapshot the formulas read (its clocks and links): the whole snapshot is the
    # largest column, and decoding it was most of a month's report at 100,000 incidents (bench/README.md).
    snapshot = col(RecordRow.snapshot)
    query = core_select(
        col(RecordRow.id),
        col(RecordRow.number),
        col(RecordRow.definition_key),
        col(RecordRow.state),
        col(RecordRow.state_category),
        col(RecordRow.final),
        col(RecordRow.fields),
        snapshot["slas"],
        snapshot["links"],
        col(RecordRow.created_at),
        col(RecordRow.resolved_at),
        col(RecordRow.closed_at),
    ).where(col(RecordRow.definition_key) == definition)
    start, end = aware_utc(period.start), aware_utc(period.end)
    if start is not None:
        query = query.where(col(RecordRow.created_at) >= start)
    if end is not None:
        query = query.where(col(RecordRow.created_at) < end)
    rows = session.execute(query.order_by(col(RecordRow.created_at), col(RecordRow.id))).all()
    facts = {
        r[0]: Facts(
            id=r[0],
            number=r[1],
            definition=r[2],
            state=r[3],
            state_category=r[4],
            final=r[5],
            fields=dict(r[6] or {}),
            snapshot={"slas": r[7] or [], "links": r[8] or []},
            created_at=naive_utc(r[9]) or r[9],
            resolved_at=naive_utc(r[10]),
            closed_at=naive_utc(r[11]),
        )
        for r in rows
    }
    ids = list(facts)
    for part in _chunks(ids):
        audit = session.exec(
            select(AuditRow).where(col(AuditRow.record_id).in_(part)).order_by(col(AuditRow.seq))
        ).all()
        for a in audit:
            facts[a.record_id].events.append(
                Event(
                    seq=a.seq,
                    at=naive_utc(a.at) or a.at,
                    actor=a.actor,
                    action=a.action,
                    from_state=a.from_state,
                    to_state=a.to_state,
                    details=dict(a.details or {}),
                )
            )
        approvals = session.exec(select(ApprovalRow).where(col(ApprovalRow.record_id).in_(part))).all()
        for p in approvals:
            facts[p.record_id].approvals.append(
                Approval(
                    id=p.id,
                    step=p.step,
                    level=p.level,
                    state=p.state,
                    opened_at=naive_utc(p.opened_at) or p.opened_at,
                    closed_at=naive_utc(p.closed_at),
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
    indicators such as change-caused incidents."""
    linked = total = 0
    for f in load_facts(session, definition=definition, period=period):
        total += 1
        value: Any = f.fields.get(field)
        if value not in (None, "", []):
            linked += 1
    return linked, total


def definition_known(session: Session, key: str) -> bool:
    """The key names a stored definition or has records (the indicators of an unknown key are a typo)."""
    stored = session.exec(select(DefinitionRow.id).where(DefinitionRow.key == key).limit(1)).first()
    if stored is not None:
        return True
    return (
        session.exec(select(RecordRow.id).where(RecordRow.definition_key == key).limit(1)).first() is not None
    )
