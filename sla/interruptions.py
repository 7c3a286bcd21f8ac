"""The outage of an incident flagged as a service interruption, written by the incident's own workflow
when it is resolved (the `record_outage` effect; activities/outages.py). One outage per incident: an
incident resolved again after a reopen, or one whose outage a person already entered, moves that
outage's end (its start stays the earliest), so an interruption is never counted twice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from sla.tables import OutageRow

ACTOR = "system:sla"


def record_interruption(
    session: Session, *, incident: str, service: str, start: datetime, end: datetime, now: datetime
) -> OutageRow | None:
    """The incident's outage from `start` to `end`, written or extended; None when it would be empty
    (flagged and resolved in the same instant)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return None
    row = session.exec(
        select(OutageRow).where(OutageRow.incident == incident).order_by(col(OutageRow.id))
    ).first()
    if row is None:
        row = OutageRow(
            service=service,
            start=start,
            end=end,
            planned=False,
            incident=incident,
            created_by=ACTOR,
            created_at=now,
        )
    else:
        row.start = min(_utc(row.start), start)
        row.end = max(_utc(row.end), end)
    session.add(row)
    session.flush()
    return row


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
