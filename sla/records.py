"""The records an agreement covered in a period, computed in the database: per priority how many were
created, how many breached a clock, and the mean and maximum resolution time (creation to resolution,
wall clock) against the agreement's resolution target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, case, cast, func, select
from sqlmodel import Session, col

from core.tables import RecordRow
from sla.availability import check_period
from sla.covered import covered
from sla.model import AgreementSpec
from sla.tables import AgreementRow


@dataclass(frozen=True)
class PriorityFigures:
    priority: str
    records: int
    resolved: int
    breached: int
    mean_resolution_hours: float | None
    max_resolution_hours: float | None
    resolution_target_hours: float | None


def _seconds(dialect: str) -> ColumnElement[Any]:
    """resolved_at − created_at in seconds, in the dialect's own date arithmetic."""
    if dialect == "postgresql":
        return func.extract("epoch", col(RecordRow.resolved_at) - col(RecordRow.created_at))
    return (func.julianday(col(RecordRow.resolved_at)) - func.julianday(col(RecordRow.created_at))) * 86400.0


def record_figures(
    session: Session, agreement: AgreementRow, start: datetime, end: datetime
) -> list[PriorityFigures]:
    start, end = check_period(start, end)
    spec = AgreementSpec.model_validate(agreement.spec)
    seconds = cast(_seconds(session.get_bind().dialect.name), Float)
    query = (
        select(
            col(RecordRow.priority),
            func.count(),
            func.count(col(RecordRow.resolved_at)),
            func.sum(case((col(RecordRow.breached), 1), else_=0)),
            func.avg(seconds),
            func.max(seconds),
        )
        .where(*covered(agreement.key, start, end))
        .group_by(col(RecordRow.priority))
        .order_by(col(RecordRow.priority))
    )
    out = []
    for priority, records, resolved, breached, mean, longest in session.execute(query).all():
        target = spec.targets.get(str(priority))
        out.append(
            PriorityFigures(
                priority=str(priority),
                records=int(records),
                resolved=int(resolved),
                breached=int(breached or 0),
                mean_resolution_hours=None if mean is None else round(float(mean) / 3600, 2),
                max_resolution_hours=None if longest is None else round(float(longest) / 3600, 2),
                resolution_target_hours=None if target is None else round(target.resolution_minutes / 60, 2),
            )
        )
    return out
