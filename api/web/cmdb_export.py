"""The CMDB search as a download: /ui/cmdb/export.csv and .xlsx take the search's filters and give at
most 10,000 CIs, headed in the reader's language, times in the organisation's time zone. With a class
chosen, each of its attributes is a column of its own (labelled, enum values in words); without one,
the attributes would not share columns, so only the common ones are given."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.services import cmdb as svc
from api.web import drill, exports, i18n, periods
from api.web.cmdb import Words, value_words
from api.web.common import PageRoute, User
from cmdb import models, search
from cmdb.views import CiOut

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HEADS = ("cmdb.name", "cmdb.class", "cmdb.status", "cmdb.updated")
BATCH = 1_000


@router.get("/ui/cmdb/export.{fmt}")
def export_cis(
    request: Request,
    user: User,
    session: SessionDep,
    fmt: Annotated[Literal["csv", "xlsx"], Path()],
    q: Annotated[str | None, Query(max_length=200)] = None,
    class_name: Annotated[str | None, Query(alias="class", max_length=48)] = None,
    status: Annotated[Literal["active", "retired", "all"], Query()] = "active",
) -> Response:
    lang, zone = i18n.language(request, user.language), periods.org_zone(request)
    words = Words(models.current(session)[1], lang)
    chosen = words.model.ci_class(class_name) if class_name else None
    found: list[CiOut] = []
    after = 0
    while len(found) < drill.EXPORT_LIMIT:
        page = svc.read(
            session,
            user,
            lambda s, after=after: search.search(  # type: ignore[misc]
                s,
                words.model,
                class_name=chosen.name if chosen else None,
                q=(q or "").strip() or None,
                attrs=[],
                status=status,
                after=after,
                limit=min(BATCH, drill.EXPORT_LIMIT - len(found)),
            ),
        )
        found.extend(page.items)
        if page.next_after is None:
            break
        after = page.next_after
    attributes = chosen.attributes if chosen else []
    heads = [i18n.translate(lang, h) for h in HEADS] + [
        words.attribute(chosen.name, a.name) for a in attributes if chosen
    ]
    rows: list[list[Any]] = [
        [
            ci.name,
            words.cls(ci.class_name),
            i18n.translate(lang, f"cmdb.status_{ci.status}"),
            exports.cell(ci.updated_at, zone),
            *[_cell(ci.attributes.get(a.name), lang) for a in attributes],
        ]
        for ci in found
    ]
    name = i18n.translate(lang, "cmdb.title")
    if fmt == "csv":
        return exports.csv_response(name, heads, rows)
    return exports.xlsx_response(name, [(name, heads, rows)])


def _cell(value: Any, lang: str) -> Any:
    if isinstance(value, bool):
        return i18n.translate(lang, "yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(str(value_words(lang, v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return value_words(lang, value)
