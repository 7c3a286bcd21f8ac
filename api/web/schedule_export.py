"""The change schedule as a download (issue 21: every list of the web page downloads): the planned
changes and the freeze and maintenance windows of the period the page shows (its view, day, CI and
group), as the reader may see them. XLSX holds both as sheets; CSV holds one table (`table=changes`,
the default, or `windows`). Headed in the reader's language, times in the organisation's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.auth import Principal
from api.deps import SessionDep
from api.problems import ProblemError
from api.services import schedule as forward_svc
from api.web import exports, forms, i18n, periods
from api.web.common import PageRoute, User
from api.web.records import state_label
from api.web.schedule import View, span
from cmdb.errors import CmdbError
from definitions.model import Definition

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CHANGE_HEADS = (
    "schedule.record",
    "records.title_col",
    "schedule.state",
    "schedule.starts",
    "schedule.ends",
    "schedule.implementer",
    "schedule.group",
    "schedule.conflicts",
)
WINDOW_HEADS = ("schedule.window_name", "schedule.kind", "schedule.starts", "schedule.ends", "schedule.scope")
Sheet = tuple[str, list[str], list[list[Any]]]


@router.get("/ui/schedule/export.{fmt}")
def export_schedule(
    request: Request,
    user: User,
    session: SessionDep,
    fmt: Annotated[Literal["csv", "xlsx"], Path()],
    view: View = "month",
    day: Annotated[date | None, Query()] = None,
    ci: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    group: Annotated[str | None, Query(max_length=64)] = None,
    table: Annotated[Literal["changes", "windows"], Query()] = "changes",
) -> Response:
    lang = i18n.language(request, user.language)
    changes, windows = _sheets(request, user, session, lang, view, day, ci, group)
    name = i18n.translate(lang, "schedule.title")
    if fmt == "csv":
        _title, heads, rows = changes if table == "changes" else windows
        return exports.csv_response(name, heads, rows)
    return exports.xlsx_response(name, [changes, windows])


def _sheets(
    request: Request,
    user: Principal,
    session: Session,
    lang: str,
    view: View,
    day: date | None,
    ci: int | None,
    group: str | None,
) -> tuple[Sheet, Sheet]:
    zone = periods.org_zone(request)
    first, last, _prev, _next = span(view, day or datetime.now(zone).date())
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    try:
        out = forward_svc.forward(session, user, start, end, ci=ci, group=group or None)
    except CmdbError as exc:
        raise ProblemError(exc.status, exc.zh if lang == "zh" else exc.en, kind=exc.kind) from None
    t = i18n.translate
    definitions: dict[str, Definition | None] = {}
    change_rows: list[list[Any]] = []
    for c in out.changes:
        if c.process not in definitions:
            definitions[c.process] = forms.definition(session, c.process)
        change_rows.append(
            [
                c.number,
                c.title,
                state_label(definitions[c.process], c.state, lang),
                exports.cell(c.planned_start, zone),
                exports.cell(c.planned_end, zone),
                c.implementer,
                c.assignment_group,
                "\n".join(x.message for x in c.conflicts),
            ]
        )
    window_rows: list[list[Any]] = [
        [
            w.title_zh if lang == "zh" else w.title_en,
            t(lang, f"schedule.kind_{w.kind}")
            + (f" · {t(lang, f'schedule.severity_{w.severity}')}" if w.kind == "freeze" else ""),
            exports.cell(w.starts_at, zone),
            exports.cell(w.ends_at, zone),
            t(lang, f"schedule.scope_{w.scope}") + _values(w.scope_values),
        ]
        for w in out.windows
    ]
    return (
        (t(lang, "schedule.changes"), [t(lang, h) for h in CHANGE_HEADS], change_rows),
        (t(lang, "schedule.windows"), [t(lang, h) for h in WINDOW_HEADS], window_rows),
    )


def _values(values: list[int | str]) -> str:
    return f": {', '.join(str(v) for v in values)}" if values else ""
