"""Unknown pages under /ui answer an HTML page in the reader's language (404), not the API's JSON:
a person who follows a stale link sees where to go instead. Registered last, after every page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access import Public
from api.problems import ProblemError
from api.web import i18n
from api.web.common import optional_user, render

router = APIRouter(include_in_schema=False)


@router.get("/ui/{rest:path}", dependencies=[Public])
def unknown_page(request: Request, rest: str) -> Response:
    user = optional_user(request)
    lang = i18n.language(request, user.language if user else None)
    problem = ProblemError(404, i18n.translate(lang, "error.no_page"))
    return render(request, "error.html", user, problem=problem, status_code=404)
