"""The records list as a download: /ui/records/export.csv and .xlsx take the list's filters (the
dashboard's drill-down too) and give at most 10,000 records, newest first, headed in the reader's
language, times in the organisation's time zone."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.services import definitions as defs
from api.web import drill, exports, forms, i18n, periods
from api.web.common import PageRoute, User
from api.web.record_list import ListFilters, list_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HEADS = (
    "records.number",
    "records.title_col",
    "records.process",
    "records.state",
    "field.priority",
    "field.assignee",
    "field.assignment_group",
    "export.breached",
    "export.created",
    "records.updated",
)


@router.get("/ui/records/export.{fmt}")
def export_records(
    request: Request,
    user: User,
    session: SessionDep,
    fmt: Annotated[Literal["csv", "xlsx"], Path()],
    filters: ListFilters,
) -> Response:
    page, _found = list_page(request, user, session, filters, None, limit=drill.EXPORT_LIMIT)
    lang, zone = i18n.language(request, user.language), periods.org_zone(request)
    titles = {d.key: i18n.pick(d.title, lang, d.key) for d in defs.list_definitions(session)}
    yes, no = i18n.translate(lang, "yes"), i18n.translate(lang, "no")
    rows = []
    for r in page.items:
        d = forms.definition(session, r.definition, r.definition_version)
        spec = d.state(r.state) if d else None
        rows.append(
            [
                r.number,
                r.title,
                titles.get(r.definition, r.definition),
                i18n.pick(spec.label if spec else None, lang, r.state),
                r.priority,
                r.assignee,
                r.assignment_group,
                yes if r.breached else no,
                exports.cell(r.created_at, zone),
                exports.cell(r.updated_at, zone),
            ]
        )
    heads = [i18n.translate(lang, h) for h in HEADS]
    name = i18n.translate(lang, "records.title")
    if fmt == "csv":
        return exports.csv_response(name, heads, rows)
    return exports.xlsx_response(name, [(name, heads, rows)])
