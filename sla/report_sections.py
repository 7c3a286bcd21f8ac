"""The service report's sections beyond availability (seed 004 §6; seed 002 §8.3.2; seed 003 App. A):
attainment of each target per priority, the deviations with their reasons, major incidents, outages
(continuity), customer satisfaction, trends over the previous periods, and improvement items. Each is
computed in the database from the records the agreement covered (`sla_record_agreements`) and its
service's outages; the process KPIs are added by the API (reports/ is not a dependency of sla/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from core.tables import RecordRow
from sla.availability import availability, check_period
from sla.covered import covered
from sla.service_time import resolution_figures, response_figures
from sla.tables import AgreementRow, OutageRow

MAX_LISTED = 200  # deviations and major incidents listed per report (the counts are complete)
IMPROVEMENT_DEFINITIONS = ("improvement", "csi_register", "continual_improvement")
TREND_PERIODS = 6  # this period and the five before it


@dataclass(frozen=True)
class Attainment:
    indicator: str  # response | resolution
    priority: str
    measured: int
    within_target: int
    percent: float | None  # None: nothing measured (no data, not 0 %)
    target_hours: float | None
    mean_service_hours: float | None
    max_service_hours: float | None


@dataclass(frozen=True)
class Listed:
    """A record the report names: a deviation or a major incident."""

    number: str
    title: str
    priority: str | None
    created_at: datetime
    resolved_at: datetime | None
    reason: str | None = None  # a deviation's reason, as the record gives it


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime
    planned: bool
    incident: str | None


@dataclass(frozen=True)
class Trend:
    start: datetime
    end: datetime
    availability_percent: float | None
    interruptions: int
    records: int
    breached: int


@dataclass(frozen=True)
class Satisfaction:
    answers: int
    mean: float | None  # None: no answer (no data)
    distribution: dict[str, int]


@dataclass
class Sections:
    attainment: list[Attainment]
    deviations: list[Listed]
    deviations_total: int
    major_incidents: list[Listed]
    major_incidents_total: int
    outages: list[Outage]
    satisfaction: Satisfaction
    trends: list[Trend]
    improvements: list[Listed]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (en, zh) what a section could not show


def _covered(agreement: AgreementRow, start: datetime, end: datetime) -> tuple[Any, ...]:
    return covered(agreement.key, start, end)


def _listed(row: RecordRow, reason: str | None = None) -> Listed:
    return Listed(row.number, row.title, row.priority, row.created_at, row.resolved_at, reason)


def _records(agreement: AgreementRow, start: datetime, end: datetime, *where: Any) -> Any:
    query = select(RecordRow).where(*_covered(agreement, start, end), *where)
    return query


def attainment(session: Session, agreement: AgreementRow, start: datetime, end: datetime) -> list[Attainment]:
    out = []
    for indicator, figures in (
        ("response", response_figures(session, agreement, start, end)),
        ("resolution", resolution_figures(session, agreement, start, end)),
    ):
        for f in figures:
            within = f.measured - f.over_target
            out.append(
                Attainment(
                    indicator=indicator,
                    priority=f.priority,
                    measured=f.measured,
                    within_target=within,
                    percent=round(100 * within / f.measured, 2) if f.measured else None,
                    target_hours=f.target_hours,
                    mean_service_hours=f.mean_service_hours,
                    max_service_hours=f.max_service_hours,
                )
            )
    return out


def _reason(fields: dict[str, Any]) -> str | None:
    """Why a record missed its target, as the record says: a `breach_reason` field where the definition
    has one, else the resolution notes (the shipped incident's)."""
    for name in ("breach_reason", "resolution_notes"):
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:500]
    return None


def _count(session: Session, query: Any) -> int:
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def deviations(
    session: Session, agreement: AgreementRow, start: datetime, end: datetime
) -> tuple[list[Listed], int]:
    query = _records(agreement, start, end, col(RecordRow.breached).is_(True))
    rows = session.execute(query.order_by(col(RecordRow.created_at)).limit(MAX_LISTED)).scalars().all()
    return [_listed(r, _reason(r.fields or {})) for r in rows], _count(session, query)


def major_incidents(
    session: Session, agreement: AgreementRow, start: datetime, end: datetime
) -> tuple[list[Listed], int]:
    """Records flagged as major incidents, or of priority 1 (the shipped incident's definition of one)."""
    flagged = col(RecordRow.fields)["major_incident"].as_boolean().is_(True)
    query = _records(agreement, start, end, flagged | (col(RecordRow.priority) == "1"))
    rows = session.execute(query.order_by(col(RecordRow.created_at)).limit(MAX_LISTED)).scalars().all()
    return [_listed(r) for r in rows], _count(session, query)


def outages(session: Session, agreement: AgreementRow, start: datetime, end: datetime) -> list[Outage]:
    rows = session.execute(
        select(OutageRow)
        .where(
            col(OutageRow.service) == agreement.service,
            col(OutageRow.start) < end,
            col(OutageRow.end) > start,
        )
        .order_by(col(OutageRow.start))
    ).scalars()
    return [Outage(r.start, r.end, r.planned, r.incident) for r in rows]


def satisfaction(session: Session, agreement: AgreementRow, start: datetime, end: datetime) -> Satisfaction:
    answer = col(RecordRow.fields)["satisfaction"].as_string()
    rows = session.execute(
        select(answer, func.count())
        .where(*_covered(agreement, start, end), answer.is_not(None))
        .group_by(answer)
    ).all()
    distribution = {str(a): int(n) for a, n in rows if str(a).strip().isdigit()}
    answers = sum(distribution.values())
    mean = round(sum(int(a) * n for a, n in distribution.items()) / answers, 2) if answers else None
    return Satisfaction(answers=answers, mean=mean, distribution=dict(sorted(distribution.items())))


def _months_back(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` calendar months earlier (its time zone kept)."""
    index = moment.year * 12 + moment.month - 1 - months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def _periods(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """This period and the five before it, oldest first: calendar months when the period is one (a
    monthly report's trend is by month), else periods of the same length."""
    monthly = start.day == 1 and start.time() == end.time() and _months_back(end, 1) == start
    if monthly:
        return [
            (_months_back(start, back), _months_back(end, back)) for back in range(TREND_PERIODS - 1, -1, -1)
        ]
    length = end - start
    return [(start - back * length, end - back * length) for back in range(TREND_PERIODS - 1, -1, -1)]


def trends(session: Session, agreement: AgreementRow, start: datetime, end: datetime) -> list[Trend]:
    """This period and the ones before it (`_periods`), oldest first."""
    out = []
    for s, e in _periods(start, end):
        figures = availability(session, agreement, s, e)
        counted = session.execute(
            select(func.count(), func.count().filter(col(RecordRow.breached).is_(True)))
            .select_from(RecordRow)
            .where(*_covered(agreement, s, e))
        ).one()
        out.append(
            Trend(s, e, figures.availability_percent, figures.interruptions, int(counted[0]), int(counted[1]))
        )
    return out


def improvements(session: Session, start: datetime, end: datetime) -> list[Listed]:
    """Improvement items raised in the period (003 App. B.1): records of an improvement register's
    definition, where one is published."""
    rows = session.execute(
        select(RecordRow)
        .where(
            col(RecordRow.definition_key).in_(IMPROVEMENT_DEFINITIONS),
            col(RecordRow.created_at) >= start,
            col(RecordRow.created_at) < end,
        )
        .order_by(col(RecordRow.created_at))
        .limit(MAX_LISTED)
    ).scalars()
    return [_listed(r) for r in rows]


def sections(session: Session, agreement: AgreementRow, start: datetime, end: datetime) -> Sections:
    given = (start, end)  # in the reader's time zone: a month's trend steps by that zone's months
    start, end = check_period(start, end)
    listed, total = deviations(session, agreement, start, end)
    majors, majors_total = major_incidents(session, agreement, start, end)
    out = Sections(
        attainment=attainment(session, agreement, start, end),
        deviations=listed,
        deviations_total=total,
        major_incidents=majors,
        major_incidents_total=majors_total,
        outages=outages(session, agreement, start, end),
        satisfaction=satisfaction(session, agreement, start, end),
        trends=trends(session, agreement, *given),
        improvements=improvements(session, start, end),
    )
    if out.satisfaction.answers == 0:
        out.notes.append(
            (
                "No satisfaction answer was recorded for the records this agreement covered.",
                "本协议覆盖的记录没有满意度回访结果。",
            )
        )
    if not out.improvements:
        out.notes.append(
            (
                "No improvement item was raised in the period (an improvement register's records are "
                "listed here).",
                "本期没有提出改进项（改进登记的记录会列在这里）。",
            )
        )
    return out
