"""The records planned over a period, from the `record_windows` index (core/tables.py).

An interval index is not portable between SQLite and PostgreSQL, so the overlap [start, end) is found
with one ordinary B-tree: a window overlapping the period starts before its end and no earlier than
its start less the longest window on record (`max(duration_s)`, itself read from an index). A very
long planned window widens every search; the schedule stays correct, only slower."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from core.tables import RecordRow, RecordWindowRow


def overlapping(
    session: Session, start: datetime, end: datetime, limit: int, *, group: str | None = None
) -> list[tuple[RecordRow, datetime, datetime]]:
    """Up to `limit` records whose planned window overlaps [start, end), earliest start first, each with
    its window."""
    longest = session.exec(select(func.max(RecordWindowRow.duration_s))).one() or 0
    lower = start - timedelta(seconds=longest)
    query = (
        select(RecordRow, RecordWindowRow.starts_at, RecordWindowRow.ends_at)
        .join(RecordWindowRow, col(RecordWindowRow.record_id) == col(RecordRow.id))
        .options(defer(RecordRow.snapshot))  # type: ignore[arg-type]  # the largest column, never read here
        .where(
            col(RecordWindowRow.starts_at) < end,
            col(RecordWindowRow.starts_at) >= lower,
            col(RecordWindowRow.ends_at) > start,
        )
    )
    if group:
        query = query.where(RecordRow.assignment_group == group)
    rows = session.exec(query.order_by(col(RecordWindowRow.starts_at), col(RecordRow.number)).limit(limit))
    return [(row, s, e) for row, s, e in rows]
