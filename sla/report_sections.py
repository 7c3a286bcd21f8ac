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

from sqlalchemy import ColumnElement, Float, Select, cast, func, select, true
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
    """The records the agreement (any version) covered, created in [start, end)."""
    return [
        col(RecordAgreementRow.agreement_key) == key,
        col(RecordAgreementRow.record_id) == col(RecordRow.id),
        col(RecordRow.created_at) >= start,
        col(RecordRow.created_at) < end,
    ]


def _clocks(session: Session) -> tuple[Any, ColumnElement[Any], ColumnElement[Any]]:
    """The snapshot's clocks as rows of the database's own JSON table function: (table, name, state)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = func.json_array_elements(col(RecordRow.snapshot)["slas"]).table_valued("value")
        return rows, rows.c.value.op("->>")("name"), rows.c.value.op("->>")("state")
    rows = func.json_each(col(RecordRow.snapshot), "$.slas").table_valued("value")
    return rows, func.json_extract(rows.c.value, "$.name"), func.json_extract(rows.c.value, "$.state")


def attainment(session: Session, key: str, start: datetime, end: datetime) -> list[Attainment]:
    """Per indicator (clock name): met, breached and still running, counted in the database."""
    start, end = check_period(start, end)
    rows, name, state = _clocks(session)
    query = (
        select(name, state, func.count())
        .select_from(RecordRow)
        .join(RecordAgreementRow, true())
        .join(rows, true())
        .where(*covered(key, start, end))
        .group_by(name, state)
    )
    counts: dict[str, dict[str, int]] = {}
    for indicator, clock_state, n in session.execute(query).all():
        if indicator is None:
            continue
        counts.setdefault(str(indicator), {})[str(clock_state)] = int(n)
    return [
        Attainment(
            indicator=indicator,
            met=by.get("met", 0),
            breached=by.get("breached", 0),
            running=sum(v for s, v in by.items() if s not in ("met", "breached")),
        )
        for indicator, by in sorted(counts.items())
    ]


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
    return (
        select(col(RecordRow.id))
        .select_from(RecordRow)
        .join(RecordAgreementRow, true())
        .where(*covered(key, start, end))
    )


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
        .join(RecordAgreementRow, true())
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
    start, end = check_period(start, end)
    if session.get_bind().dialect.name == "postgresql":
        seconds: ColumnElement[Any] = func.extract(
            "epoch", col(RecordRow.resolved_at) - col(RecordRow.created_at)
        )
    else:
        seconds = (
            func.julianday(col(RecordRow.resolved_at)) - func.julianday(col(RecordRow.created_at))
        ) * 86400.0
    value = session.execute(
        select(func.avg(cast(seconds, Float)))
        .select_from(RecordRow)
        .join(RecordAgreementRow, true())
        .where(*covered(key, start, end), col(RecordRow.resolved_at).is_not(None))
    ).scalar_one()
    return None if value is None else round(float(value) / 3600, 2)


def volume(session: Session, key: str, start: datetime, end: datetime) -> tuple[int, int]:
    """(records, breached records) the agreement covered in the period."""
    start, end = check_period(start, end)
    records, breached = session.execute(
        select(func.count(), func.count().filter(col(RecordRow.breached).is_(True)))
        .select_from(RecordRow)
        .join(RecordAgreementRow, true())
        .where(*covered(key, start, end))
    ).one()
    return int(records), int(breached)
