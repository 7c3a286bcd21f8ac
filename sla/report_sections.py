"""The service report's record sections for one agreement and period (issue 21, docs/sla.md "Service
reports"), each computed in the database over the records the agreement covered (`sla_record_agreements`)
and created in the period:

- attainment per indicator: each SLA clock of the records (response, resolution, operational levels) met
  or breached, read from the clocks the read model keeps in each record's snapshot (JSON, expanded by the
  database: `json_each` on SQLite, `json_array_elements` on PostgreSQL);
- deviations: the records that breached a clock, with the reason the record gives for it where its
  definition has a reason field (`REASON_FIELDS`);
- major incidents: the records flagged `major_incident`;
- customer satisfaction: the records' `satisfaction` field (the library incident's 1–5 score).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, case, cast, func, select, true
from sqlmodel import Session, col

from core.tables import RecordRow
from sla.availability import check_period
from sla.tables import RecordAgreementRow

# Fields a definition may give for why a record missed its service level, the first one present wins.
REASON_FIELDS = ("breach_reason", "sla_breach_reason", "deviation_reason", "delay_reason")
MAJOR_FIELD = "major_incident"
SATISFACTION_FIELD = "satisfaction"
SATISFACTION_SCALE = ("1", "2", "3", "4", "5")  # 5 = very satisfied (library incident)
SATISFIED_FROM = 4
LISTED = 100  # rows a section lists; its total is always counted in full


@dataclass(frozen=True)
class Attainment:
    indicator: str  # the clock's name in the definition (e.g. response, resolution)
    met: int
    breached: int
    running: int  # not finished yet: judged in a later report

    @property
    def percent(self) -> float | None:
        judged = self.met + self.breached
        return round(100.0 * self.met / judged, 2) if judged else None


@dataclass(frozen=True)
class Listed:
    """A record a section lists."""

    id: str
    number: str
    definition: str
    title: str
    priority: str | None
    state: str
    created_at: datetime
    resolved_at: datetime | None
    clocks: list[str] = field(default_factory=list)  # the clocks that breached (deviations)
    reason: str | None = None  # the record's own reason (deviations)
    reason_field: str | None = None


@dataclass(frozen=True)
class Section:
    total: int
    items: list[Listed]


@dataclass(frozen=True)
class Satisfaction:
    field: str
    responses: int
    distribution: dict[str, int]  # score -> records
    mean: float | None
    satisfied_percent: float | None  # scores of SATISFIED_FROM and above


def covered(key: str, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """The records the agreement (any version) covered, created in [start, end). An EXISTS per record
    found through the creation-time index: joining the agreement's notes instead let SQLite's planner
    walk every record the agreement ever covered (a year's) to keep a month's."""
    noted = (
        select(col(RecordAgreementRow.record_id))
        .where(
            col(RecordAgreementRow.record_id) == col(RecordRow.id),
            col(RecordAgreementRow.agreement_key) == key,
        )
        .exists()
    )
    return [col(RecordRow.created_at) >= start, col(RecordRow.created_at) < end, noted]


def _clocks(session: Session) -> tuple[Any, ColumnElement[Any], ColumnElement[Any]]:
    """The snapshot's clocks as rows of the database's own JSON table function: (table, name, state)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = func.json_array_elements(col(RecordRow.snapshot)["slas"]).table_valued("value")
        return rows, rows.c.value.op("->>")("name"), rows.c.value.op("->>")("state")
    rows = func.json_each(col(RecordRow.snapshot), "$.slas").table_valued("value")
    return rows, func.json_extract(rows.c.value, "$.name"), func.json_extract(rows.c.value, "$.state")


def attainment(session: Session, key: str, start: datetime, end: datetime) -> list[Attainment]:
    """Per indicator (clock name): met, breached and still running, counted in the database."""
    return attainment_by_period(session, key, [(start, end)])[0]


def _bucket(bounds: list[tuple[datetime, datetime]]) -> ColumnElement[Any]:
    """Which of the back-to-back periods a record was created in (their index)."""
    created = col(RecordRow.created_at)
    return case(*[((created >= s) & (created < e), i) for i, (s, e) in enumerate(bounds)], else_=None)


def _checked(bounds: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    return [check_period(s, e) for s, e in bounds]


def attainment_by_period(
    session: Session, key: str, bounds: list[tuple[datetime, datetime]]
) -> list[list[Attainment]]:
    """`attainment` for each of several periods, in one query."""
    bounds = _checked(bounds)
    rows, name, state = _clocks(session)
    bucket = _bucket(bounds)
    query = (
        select(bucket, name, state, func.count())
        .select_from(RecordRow)
        .join(rows, true())
        .where(*covered(key, min(s for s, _ in bounds), max(e for _, e in bounds)))
        .group_by(bucket, name, state)
    )
    counts: list[dict[str, dict[str, int]]] = [{} for _ in bounds]
    for index, indicator, clock_state, n in session.execute(query).all():
        if indicator is None or index is None:
            continue
        counts[int(index)].setdefault(str(indicator), {})[str(clock_state)] = int(n)
    return [
        [
            Attainment(
                indicator=indicator,
                met=by.get("met", 0),
                breached=by.get("breached", 0),
                running=sum(v for s, v in by.items() if s not in ("met", "breached")),
            )
            for indicator, by in sorted(per.items())
        ]
        for per in counts
    ]


@dataclass(frozen=True)
class PeriodFigures:
    records: int
    breached: int
    mean_resolution_hours: float | None
    satisfaction_mean: float | None


def _seconds(session: Session) -> ColumnElement[Any]:
    """resolved_at − created_at in seconds, in the dialect's own date arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", col(RecordRow.resolved_at) - col(RecordRow.created_at))
    return (func.julianday(col(RecordRow.resolved_at)) - func.julianday(col(RecordRow.created_at))) * 86400.0


def period_figures(
    session: Session, key: str, bounds: list[tuple[datetime, datetime]]
) -> list[PeriodFigures]:
    """Per period, in one query: records, breached records, mean resolution time (wall clock) of the
    resolved ones, and the mean satisfaction score of the scored ones."""
    bounds = _checked(bounds)
    bucket = _bucket(bounds)
    score = col(RecordRow.fields)[SATISFACTION_FIELD].as_string()
    query = (
        select(
            bucket,
            func.count(),
            func.count().filter(col(RecordRow.breached).is_(True)),
            func.avg(cast(_seconds(session), Float)),
            func.avg(case((score.in_(SATISFACTION_SCALE), cast(score, Float)), else_=None)),
        )
        .select_from(RecordRow)
        .where(*covered(key, min(s for s, _ in bounds), max(e for _, e in bounds)))
        .group_by(bucket)
    )
    out = [PeriodFigures(0, 0, None, None) for _ in bounds]
    for index, records, breached, seconds, mean_score in session.execute(query).all():
        if index is None:
            continue
        out[int(index)] = PeriodFigures(
            records=int(records),
            breached=int(breached),
            mean_resolution_hours=None if seconds is None else round(float(seconds) / 3600, 2),
            satisfaction_mean=None if mean_score is None else round(float(mean_score), 2),
        )
    return out


def _listed(row: Any) -> Listed:
    snapshot, fields = row.snapshot or {}, row.fields or {}
    given = next((f for f in REASON_FIELDS if fields.get(f) not in (None, "")), None)
    return Listed(
        id=row.id,
        number=row.number,
        definition=row.definition_key,
        title=row.title,
        priority=row.priority,
        state=row.state,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        clocks=[str(c.get("name")) for c in snapshot.get("slas") or [] if c.get("state") == "breached"],
        reason=None if given is None else str(fields[given]),
        reason_field=given,
    )


def _section(session: Session, query: Select[Any], limit: int) -> Section:
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.scalars(
        select(RecordRow)
        .where(col(RecordRow.id).in_(select(query.subquery().c.id)))
        .order_by(col(RecordRow.created_at), col(RecordRow.id))
        .limit(limit)
    ).all()
    return Section(total=int(total), items=[_listed(r) for r in rows])


def _base(key: str, start: datetime, end: datetime) -> Select[Any]:
    return select(col(RecordRow.id)).select_from(RecordRow).where(*covered(key, start, end))


def deviations(session: Session, key: str, start: datetime, end: datetime, limit: int = LISTED) -> Section:
    """The records that breached a clock (oldest first), each with its reason where it gives one."""
    start, end = check_period(start, end)
    return _section(session, _base(key, start, end).where(col(RecordRow.breached).is_(True)), limit)


def major_incidents(
    session: Session, key: str, start: datetime, end: datetime, limit: int = LISTED
) -> Section:
    """The records flagged as major incidents."""
    start, end = check_period(start, end)
    flagged = col(RecordRow.fields)[MAJOR_FIELD].as_boolean().is_(True)
    return _section(session, _base(key, start, end).where(flagged), limit)


def satisfaction(session: Session, key: str, start: datetime, end: datetime) -> Satisfaction:
    """The distribution of the `satisfaction` scores the records carry (counted in the database)."""
    start, end = check_period(start, end)
    score = col(RecordRow.fields)[SATISFACTION_FIELD].as_string()
    query = (
        select(score, func.count())
        .select_from(RecordRow)
        .where(*covered(key, start, end), score.is_not(None))
        .group_by(score)
    )
    distribution = dict.fromkeys(SATISFACTION_SCALE, 0)
    for value, n in session.execute(query).all():
        if str(value) in distribution:
            distribution[str(value)] += int(n)
    responses = sum(distribution.values())
    total = sum(int(s) * n for s, n in distribution.items())
    satisfied = sum(n for s, n in distribution.items() if int(s) >= SATISFIED_FROM)
    return Satisfaction(
        field=SATISFACTION_FIELD,
        responses=responses,
        distribution=distribution,
        mean=round(total / responses, 2) if responses else None,
        satisfied_percent=round(100.0 * satisfied / responses, 2) if responses else None,
    )


def mean_resolution_hours(session: Session, key: str, start: datetime, end: datetime) -> float | None:
    """Mean creation-to-resolution time of the resolved records (wall clock, in the database)."""
    return period_figures(session, key, [(start, end)])[0].mean_resolution_hours


def volume(session: Session, key: str, start: datetime, end: datetime) -> tuple[int, int]:
    """(records, breached records) the agreement covered in the period."""
    figures = period_figures(session, key, [(start, end)])[0]
    return figures.records, figures.breached
