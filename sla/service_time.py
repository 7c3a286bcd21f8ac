"""Response and resolution times of the records an agreement covered in a period, per priority, against
the agreement's targets (issue 21, docs/sla.md): mean and maximum on the wall clock (computed in the
database) and in the agreement's service hours (its business calendar: what its targets count in), and
how many took longer than the target.

- Response: from creation to the first response (`records.responded_at`: the record's first change of
  state, i.e. it left its initial state: accepted, sent to wait, resolved or cancelled).
- Resolution: from creation to resolution (`records.resolved_at`).
Service hours are counted in the calendar of the agreement version each record ran on, and the target
each record is held to is that version's (a later version applies to later records only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Float, cast, func, select
from sqlmodel import Session, col

from core.tables import RecordRow
from definitions.calendar import BusinessCalendar, business_time_between
from sla.availability import check_period
from sla.covered import covered
from sla.model import AgreementSpec
from sla.tables import AgreementRow, RecordAgreementRow

Measure = Literal["response", "resolution"]
_TARGET = {"response": "response_minutes", "resolution": "resolution_minutes"}


@dataclass(frozen=True)
class TimeFigures:
    priority: str
    records: int  # created in the period under the agreement
    measured: int  # of those, responded to (response) or resolved (resolution)
    mean_hours: float | None  # wall clock
    max_hours: float | None
    mean_service_hours: float | None  # in the agreement's service hours
    max_service_hours: float | None
    target_hours: float | None  # the agreement's target (service hours)
    over_target: int  # measured later than their target, in service hours


def service_hours(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """The service hours between two instants in an agreement's calendar (0 when end is not later)."""
    return business_time_between(calendar, _utc(start), _utc(end)).total_seconds() / 3600


def response_figures(
    session: Session, agreement: AgreementRow, start: datetime, end: datetime
) -> list[TimeFigures]:
    """Per priority: mean and maximum time to the first response against the response target."""
    return time_figures(session, agreement, start, end, "response")


def resolution_figures(
    session: Session, agreement: AgreementRow, start: datetime, end: datetime
) -> list[TimeFigures]:
    """Per priority: mean and maximum time to resolution against the resolution target, in service
    hours as well as on the wall clock."""
    return time_figures(session, agreement, start, end, "resolution")


def _ended(measure: Measure) -> Any:
    return col(RecordRow.responded_at) if measure == "response" else col(RecordRow.resolved_at)


def _seconds(dialect: str, ended: Any) -> ColumnElement[Any]:
    """ended − created_at in seconds, in the dialect's own date arithmetic."""
    if dialect == "postgresql":
        return func.extract("epoch", ended - col(RecordRow.created_at))
    return (func.julianday(ended) - func.julianday(col(RecordRow.created_at))) * 86400.0


def time_figures(
    session: Session, agreement: AgreementRow, start: datetime, end: datetime, measure: Measure
) -> list[TimeFigures]:
    start, end = check_period(start, end)
    ended = _ended(measure)
    noted = covered(agreement.key, start, end)
    joined = (col(RecordAgreementRow.record_id) == col(RecordRow.id),)
    seconds = cast(_seconds(session.get_bind().dialect.name, ended), Float)
    wall = session.execute(
        select(col(RecordRow.priority), func.count(), func.count(ended), func.avg(seconds), func.max(seconds))
        .where(*noted)
        .group_by(col(RecordRow.priority))
    ).all()
    # Service hours need the calendar: only the measured records' instants leave the database.
    rows = session.execute(
        select(
            col(RecordRow.priority),
            col(RecordAgreementRow.agreement_version),
            col(RecordRow.created_at),
            ended,
        )
        .join(RecordAgreementRow, *joined)  # the version each record ran on
        .where(*noted, col(RecordAgreementRow.agreement_key) == agreement.key, ended.is_not(None))
    ).all()
    specs = _versions(session, agreement.key)
    hours: dict[str, list[float]] = defaultdict(list)
    over: dict[str, int] = defaultdict(int)
    for priority, version, created, finished in rows:
        spec = specs.get(int(version)) or AgreementSpec.model_validate(agreement.spec)
        taken = service_hours(spec.calendar, created, finished)
        hours[str(priority)].append(taken)
        target = spec.targets.get(str(priority))
        if target is not None and taken * 60 > getattr(target, _TARGET[measure]):
            over[str(priority)] += 1
    current = AgreementSpec.model_validate(agreement.spec)
    out = []
    for priority, records, measured, mean, longest in sorted(wall, key=lambda r: str(r[0])):
        key = str(priority)
        target = current.targets.get(key)
        spent = hours.get(key, [])
        out.append(
            TimeFigures(
                priority=key,
                records=int(records),
                measured=int(measured),
                mean_hours=_hours(mean),
                max_hours=_hours(longest),
                mean_service_hours=round(sum(spent) / len(spent), 2) if spent else None,
                max_service_hours=round(max(spent), 2) if spent else None,
                target_hours=None if target is None else round(getattr(target, _TARGET[measure]) / 60, 2),
                over_target=over.get(key, 0),
            )
        )
    return out


def _versions(session: Session, key: str) -> dict[int, AgreementSpec]:
    rows = session.execute(select(AgreementRow).where(col(AgreementRow.key) == key)).scalars().all()
    return {row.version: AgreementSpec.model_validate(row.spec) for row in rows}


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def _utc(value: datetime) -> datetime:
    # SQLite hands back what UTCDateTime stored; make sure it compares with aware datetimes.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
