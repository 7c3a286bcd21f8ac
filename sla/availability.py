"""Outages on services and, per agreement and period, availability in the agreement's service hours
(seed 003 App. A; seed 004): availability = (committed service time − unavailable time within it) /
committed service time; the number of unplanned interruptions; MTBF = available service time /
interruptions.

The database selects and clips the outages of the period and counts the interruptions; the service-hours
arithmetic (holidays, make-up workdays, time zones) is the business calendar's, applied to the few merged
outage intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.tables import RecordRow
from definitions.calendar import business_time_between
from sla.errors import SlaError
from sla.model import AgreementSpec
from sla.tables import AgreementRow, OutageRow


def _utc(value: datetime, path: str) -> datetime:
    if value.tzinfo is None:
        raise SlaError(path, "a time with its time zone is required", "时间须带时区")
    return value.astimezone(UTC)


def check_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(start, "start"), _utc(end, "end")
    if end <= start:
        raise SlaError("end", "the period ends before it starts", "期间的结束早于开始")
    return start, end


def record_outage(
    session: Session,
    *,
    service: str,
    start: datetime | None,
    end: datetime | None,
    planned: bool,
    actor: str,
    now: datetime,
    incident: str | None = None,
) -> OutageRow:
    """An outage entered directly, or taken from an incident flagged as a service interruption: then a
    missing start is the incident's creation and a missing end its resolution."""
    if not service.strip():
        raise SlaError("service", "a service is required", "需要服务")
    if incident is not None:
        record = session.exec(
            select(RecordRow).where((RecordRow.id == incident) | (RecordRow.number == incident))
        ).first()
        if record is None:
            raise SlaError("incident", f"no record {incident}", f"没有记录 {incident}")
        incident = record.id
        start = start or record.created_at
        end = end or record.resolved_at
    if start is None or end is None:
        raise SlaError(
            "end" if start else "start",
            "start and end are required (an unresolved incident has no end yet)",
            "需要开始和结束时间（未解决的事件尚无结束时间）",
        )
    start, end = check_period(start, end)
    row = OutageRow(
        service=service,
        start=start,
        end=end,
        planned=planned,
        incident=incident,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Availability:
    committed: timedelta
    unavailable: timedelta
    interruptions: int
    availability_percent: float | None  # None when the period has no committed service time
    target_percent: float
    max_interruptions: int
    mtbf_hours: float | None  # None without interruptions

    @property
    def met(self) -> bool:
        return (
            self.availability_percent is None or self.availability_percent >= self.target_percent
        ) and self.interruptions <= self.max_interruptions


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping outages counted once."""
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def availability(session: Session, agreement: AgreementRow, start: datetime, end: datetime) -> Availability:
    start, end = check_period(start, end)
    spec = AgreementSpec.model_validate(agreement.spec)
    unplanned = (
        OutageRow.service == agreement.service,
        col(OutageRow.planned).is_(False),
        col(OutageRow.start) < end,
        col(OutageRow.end) > start,
    )
    rows = session.exec(select(OutageRow.start, OutageRow.end).where(*unplanned)).all()
    clipped = [(max(_as_utc(s), start), min(_as_utc(e), end)) for s, e in rows]
    unavailable = sum((business_time_between(spec.calendar, s, e) for s, e in _merged(clipped)), timedelta())
    interruptions = session.exec(
        select(func.count()).select_from(OutageRow).where(*unplanned, col(OutageRow.start) >= start)
    ).one()
    committed = business_time_between(spec.calendar, start, end)
    percent = None
    if committed > timedelta():
        percent = round(100 * (committed - unavailable) / committed, 4)
    mtbf = None
    if interruptions:
        mtbf = round((committed - unavailable).total_seconds() / 3600 / interruptions, 2)
    return Availability(
        committed=committed,
        unavailable=unavailable,
        interruptions=int(interruptions),
        availability_percent=percent,
        target_percent=spec.availability_target,
        max_interruptions=spec.max_interruptions,
        mtbf_hours=mtbf,
    )


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back what UTCDateTime stored; make sure it compares with aware datetimes.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
