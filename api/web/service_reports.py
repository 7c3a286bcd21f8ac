"""The service report on the web page (issue 21): one agreement's report for a month — its sections as
tables, in the reader's language — with the PDF for people and the XLSX for analysts to download. The
same readers as the agreement pages; the figures are the API's (api/services/service_report.py)."""

from __future__ import annotations

import calendar as calmod
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.problems import ProblemError
from api.services import service_report
from api.services.visibility import hidden_versions
from api.web import i18n
from api.web.agreements import Key, SlaPage, _current
from api.web.common import PageRoute, render
from core.settings import Settings
from sla.availability import availability
from sla.errors import SlaError
from sla.pdf import document
from sla.records import record_figures
from sla.report_tables import tables
from sla.xlsx import workbook

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default this month.")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(request: Request, month: str | None) -> tuple[datetime, datetime, str]:
    settings: Settings = request.app.state.settings
    tz = ZoneInfo(settings.timezone)
    today = datetime.now(tz).date()
    year, mon = (int(month[:4]), int(month[5:])) if month else (today.year, today.month)
    if not 1 <= mon <= 12:
        raise ProblemError(422, f"no month {month}", zh=f"没有月份 {month}", kind="BadPeriod")
    start = datetime.combine(date(year, mon, 1), time(), tz)
    last = calmod.monthrange(year, mon)[1]
    end = datetime.combine(date(year, mon, last) + timedelta(days=1), time(), tz)
    return start, end, f"{year:04d}-{mon:02d}"


@router.get("/ui/agreements/{key}/report")
def report_page(
    request: Request, key: Key, user: SlaPage, session: SessionDep, month: Month = None
) -> Response:
    row = _current(session, key)
    lang = i18n.language(request, user.language)
    start, end, shown = _period(request, month)
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    try:
        sections = service_report.build(session, row, start, end, lang, hidden)
        figures = availability(session, row, start, end)
    except SlaError as exc:
        raise ProblemError(422, exc.zh if lang == "zh" else exc.en, kind="BadPeriod") from None
    title = row.spec["title"].get(lang) or key
    return render(
        request,
        "service_report.html",
        user,
        row=row,
        title=title,
        month=shown,
        figures=figures,
        tables=tables(sections, lang, request.app.state.settings.timezone),
        notes=sections.notes,
    )


@router.get("/ui/agreements/{key}/report.{kind}")
def report_file(
    request: Request, key: Key, kind: str, user: SlaPage, session: SessionDep, month: Month = None
) -> Response:
    if kind not in ("pdf", "xlsx"):
        raise ProblemError(404, f"no report as {kind}", zh=f"没有 {kind} 格式的报告", kind="NotFound")
    row = _current(session, key)
    lang = "zh" if i18n.language(request, user.language) == "zh" else "en"
    start, end, shown = _period(request, month)
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    title = row.spec["title"].get(lang) or key
    sections = service_report.build(session, row, start, end, lang, hidden)
    figures = availability(session, row, start, end)
    priorities = record_figures(session, row, start, end)
    name = f"{key}-{shown}.{kind}"
    if kind == "xlsx":
        data, media = workbook(title, figures, priorities, lang, sections), XLSX
    else:
        data, media = document(title, start, end, figures, priorities, lang, sections), "application/pdf"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
