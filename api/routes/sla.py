"""Service level agreements, outages and availability (docs/sla.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlmodel import Session, col, select

from api.auth import Principal
from api.deps import EngineDep, Idempotent, SessionDep, require_roles
from api.problems import ProblemError, responses
from api.services import service_report
from api.services.sla import (
    AgreementOut,
    AvailabilityOut,
    CreateOutage,
    OutageOut,
    PriorityOut,
    SaveAgreement,
    ServiceReportOut,
    checked,
)
from api.services.visibility import hidden_versions
from core.db import session_scope
from sla.agreements import agreement_versions, save_agreement
from sla.availability import availability, record_outage
from sla.pdf import document
from sla.records import record_figures
from sla.tables import AgreementRow
from sla.xlsx import workbook

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])
Key = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The agreement's key.")
]
# Who manages agreements: process owners (the service level manager) and admins.
SlaManager = Annotated[Principal, Depends(require_roles("process_owner", "admin"))]
# Who records outages: the managers and agents; who reads service figures: they and auditors.
SlaRecorder = Annotated[Principal, Depends(require_roles("process_owner", "admin", "agent"))]
SlaReader = Annotated[Principal, Depends(require_roles("process_owner", "admin", "agent", "auditor"))]


def _current(session: Session, key: str) -> AgreementRow:
    row = session.exec(
        select(AgreementRow).where(AgreementRow.key == key, AgreementRow.status == "active")
    ).first()
    if row is None:
        raise ProblemError(404, f"no agreement {key}", zh=f"没有服务级别协议 {key}", kind="not_found")
    return row


@router.put(
    "/agreements/{key}", status_code=201, response_model=AgreementOut, responses=responses(401, 403, 409, 422)
)
async def put_agreement(
    key: Key, body: SaveAgreement, user: SlaManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Define an agreement (its first version) or change it: a new version must name an approved change
    record in `change_ref` (seed 004 §7.1) and applies to records created afterwards.
    409: another agreement covers the service for these dates and requesters; 422: a field at fault
    (e.g. targets missing for a priority), or the change is missing or not approved."""

    async def act() -> AgreementOut:
        now = datetime.now().astimezone()
        with session_scope(engine) as session:
            row = checked(
                lambda: save_agreement(
                    session, key, body.spec, actor=user.username, now=now, change_ref=body.change_ref
                )
            )
            return AgreementOut.of(row)

    return await idempotency.respond(body, act, status=201)


@router.get("/agreements", response_model=list[AgreementOut], responses=responses(401, 403))
def list_agreements(user: SlaReader, session: SessionDep) -> list[AgreementOut]:
    """The agreements in force (their newest versions), by key."""
    rows = session.exec(
        select(AgreementRow).where(AgreementRow.status == "active").order_by(col(AgreementRow.key))
    ).all()
    return [AgreementOut.of(r) for r in rows]


@router.get(
    "/agreements/{key}/versions", response_model=list[AgreementOut], responses=responses(401, 403, 404)
)
def list_versions(key: Key, user: SlaReader, session: SessionDep) -> list[AgreementOut]:
    """Every version of an agreement, oldest first, with who made it and under which change."""
    rows = agreement_versions(session, key)
    if not rows:
        raise ProblemError(404, f"no agreement {key}", zh=f"没有服务级别协议 {key}", kind="not_found")
    return [AgreementOut.of(r) for r in rows]


@router.post("/outages", status_code=201, response_model=OutageOut, responses=responses(401, 403, 422))
async def create_outage(
    body: CreateOutage, user: SlaRecorder, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Record a time a service was unavailable (planned or not; `incident` names the record it came
    from). 422: the outage ends before it starts, or a time without its time zone."""

    async def act() -> OutageOut:
        now = datetime.now().astimezone()
        with session_scope(engine) as session:
            row = checked(lambda: record_outage(session, actor=user.username, now=now, **body.model_dump()))
            return OutageOut.of(row)

    return await idempotency.respond(body, act, status=201)


@router.get(
    "/agreements/{key}/availability", response_model=AvailabilityOut, responses=responses(401, 403, 404, 422)
)
def get_availability(
    key: Key,
    user: SlaReader,
    session: SessionDep,
    start: Annotated[datetime, Query(description="The period's start, with its time zone.")],
    end: Annotated[datetime, Query(description="The period's end (exclusive), with its time zone.")],
) -> AvailabilityOut:
    """Availability in the agreement's service hours, unplanned interruptions and MTBF for a period.
    404: no such agreement; 422: the period ends before it starts."""
    return _availability(session, _current(session, key), start, end)


def _availability(session: Session, row: AgreementRow, start: datetime, end: datetime) -> AvailabilityOut:
    figures = checked(lambda: availability(session, row, start, end))
    return AvailabilityOut(
        agreement=row.key,
        version=row.version,
        start=start,
        end=end,
        committed_hours=round(figures.committed.total_seconds() / 3600, 4),
        unavailable_hours=round(figures.unavailable.total_seconds() / 3600, 4),
        availability_percent=figures.availability_percent,
        availability_target=figures.target_percent,
        interruptions=figures.interruptions,
        max_interruptions=figures.max_interruptions,
        mtbf_hours=figures.mtbf_hours,
        met=figures.met,
    )


@router.get(
    "/agreements/{key}/report", response_model=ServiceReportOut, responses=responses(401, 403, 404, 422)
)
def get_report(
    key: Key,
    user: SlaReader,
    session: SessionDep,
    start: Annotated[datetime, Query(description="The period's start, with its time zone.")],
    end: Annotated[datetime, Query(description="The period's end (exclusive), with its time zone.")],
) -> ServiceReportOut:
    """The service report for a period as JSON: availability as above; per priority the records the
    agreement covered, resolved and breached, with mean and maximum resolution time against the target;
    and its sections — attainment of each target per priority, deviations with their reasons, major
    incidents, outages, satisfaction, trends over the previous periods, each process's KPIs and the
    improvement items — in your language (computed in the database). 404: no such agreement; 422: the
    period ends before it starts."""
    row = _current(session, key)
    figures = checked(lambda: record_figures(session, row, start, end))
    lang = "zh" if user.language == "zh" else "en"
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    return ServiceReportOut(
        title=row.spec["title"],
        availability=_availability(session, row, start, end),
        priorities=[PriorityOut.model_validate(f, from_attributes=True) for f in figures],
        sections=checked(lambda: service_report.build(session, row, start, end, lang, hidden)),
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/agreements/{key}/report.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "The report as XLSX."},
        **responses(401, 403, 404, 422),
    },
)
def get_report_xlsx(
    key: Key,
    user: SlaReader,
    session: SessionDep,
    start: Annotated[datetime, Query(description="The period's start, with its time zone.")],
    end: Annotated[datetime, Query(description="The period's end (exclusive), with its time zone.")],
) -> Response:
    """The service report's figures as a spreadsheet (sheets: availability, records per priority),
    headed in the caller's language. 404: no such agreement; 422: the period ends before it starts."""
    row = _current(session, key)
    figures = checked(lambda: availability(session, row, start, end))
    priorities = checked(lambda: record_figures(session, row, start, end))
    lang = "zh" if user.language == "zh" else "en"
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    more = checked(lambda: service_report.build(session, row, start, end, lang, hidden))
    data = workbook(row.spec["title"].get(lang, key), figures, priorities, lang, more)
    headers = {"Content-Disposition": f'attachment; filename="{key}-report.xlsx"'}
    return Response(data, media_type=XLSX, headers=headers)


PDF = "application/pdf"


@router.get(
    "/agreements/{key}/report.pdf",
    response_class=Response,
    responses={
        200: {"content": {PDF: {}}, "description": "The report as PDF."},
        **responses(401, 403, 404, 422),
    },
)
def get_report_pdf(
    key: Key,
    user: SlaReader,
    session: SessionDep,
    start: Annotated[datetime, Query(description="The period's start, with its time zone.")],
    end: Annotated[datetime, Query(description="The period's end (exclusive), with its time zone.")],
) -> Response:
    """The service report for people: the figures and bar charts (availability against its target,
    resolution times against their targets), in the caller's language.
    404: no such agreement; 422: the period ends before it starts."""
    row = _current(session, key)
    figures = checked(lambda: availability(session, row, start, end))
    priorities = checked(lambda: record_figures(session, row, start, end))
    lang = "zh" if user.language == "zh" else "en"
    title = row.spec["title"].get(lang, key)
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    more = checked(lambda: service_report.build(session, row, start, end, lang, hidden))
    data = checked(lambda: document(title, start, end, figures, priorities, lang, more))
    headers = {"Content-Disposition": f'attachment; filename="{key}-report.pdf"'}
    return Response(data, media_type=PDF, headers=headers)
