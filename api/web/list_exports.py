"""The agreements in force and the schedules of records as downloads (CSV or XLSX, issue 21: every list
of the web page downloads), with the same columns and words as their pages, for the same readers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlmodel import col, select

from api.deps import EngineDep, SessionDep
from api.services import schedules as svc
from api.web import exports, i18n, periods
from api.web.agreements import SlaPage
from api.web.common import OwnerPage, PageRoute
from api.web.record_schedules import BASE, processes_by_key, rule_words
from sla.model import AgreementSpec
from sla.tables import AgreementRow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Format = Annotated[Literal["csv", "xlsx"], Path()]
AGREEMENT_HEADS = (
    "agreements.agreement",
    "agreements.service",
    "agreements.requesters",
    "agreements.valid",
    "agreements.hours",
    "agreements.availability_target",
    "agreements.version",
)
SCHEDULE_HEADS = (
    "schedules.name",
    "schedules.process",
    "schedules.rhythm",
    "schedules.next",
    "schedules.owner",
    "schedules.state",
)


def _download(fmt: str, name: str, heads: list[str], rows: list[list[Any]]) -> Response:
    if fmt == "csv":
        return exports.csv_response(name, heads, rows)
    return exports.xlsx_response(name, [(name, heads, rows)])


@router.get("/ui/agreements/export.{fmt}")
def export_agreements(request: Request, user: SlaPage, session: SessionDep, fmt: Format) -> Response:
    lang = i18n.language(request, user.language)
    rows = session.exec(
        select(AgreementRow).where(AgreementRow.status == "active").order_by(col(AgreementRow.key))
    ).all()
    t = i18n.translate
    table: list[list[Any]] = []
    for row in rows:
        spec = AgreementSpec.model_validate(row.spec)
        table.append(
            [
                i18n.pick(spec.title, lang, row.key),
                t(lang, "agreements.default") if spec.service == "*" else spec.service,
                ", ".join(spec.requester_groups) if spec.requester_groups else t(lang, "agreements.everyone"),
                f"{spec.valid_from} – {spec.valid_to or t(lang, 'agreements.open_ended')}",
                t(lang, "agreements.always" if spec.calendar.always else "agreements.business_hours"),
                spec.availability_target,
                row.version,
            ]
        )
    heads = [t(lang, h) for h in AGREEMENT_HEADS]
    return _download(fmt, t(lang, "agreements.title"), heads, table)


@router.get(BASE + "/export.{fmt}")
def export_schedules(
    request: Request, user: OwnerPage, session: SessionDep, engine: EngineDep, fmt: Format
) -> Response:
    lang, zone = i18n.language(request, user.language), periods.org_zone(request)
    processes = processes_by_key(session, lang)
    t = i18n.translate
    table: list[list[Any]] = [
        [
            s.name,
            processes.get(s.definition, s.definition),
            rule_words(s.rule, lang, s.calendar),
            exports.cell(s.next_runs[0], zone) if s.next_runs else None,
            s.owner,
            t(lang, "schedules.paused" if s.paused else "schedules.active"),
        ]
        for s in svc.listing(engine, None)
    ]
    heads = [t(lang, h) for h in SCHEDULE_HEADS]
    return _download(fmt, t(lang, "schedules.title"), heads, table)
