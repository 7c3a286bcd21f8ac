"""My account's substitutes: name one for a date range, revoke one (the API's rules, same service).

Dates are whole days in UTC: "until" includes its day, so a delegation until 2026-12-10 ends at
2026-12-11 00:00 UTC. Refusals are shown on the account page in the caller's language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.problems import ProblemError, unprocessable
from api.services import delegations
from api.web import i18n
from api.web.account import account_view
from api.web.common import PageRoute, PostUser, engine_of
from core.db import session_scope

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _day(value: str, field: str, lang: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        message = "不是日期（年-月-日）" if lang == "zh" else "not a date (YYYY-MM-DD)"
        raise unprocessable(message, [{"path": field, "message": message}]) from None
    if not (2000 <= day.year < 2100):
        message = "须在 2000 至 2099 年之间" if lang == "zh" else "must be between 2000 and 2099"
        raise unprocessable(message, [{"path": field, "message": message}])
    return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@router.post("/ui/account/delegations")
def create_delegation(
    request: Request,
    user: PostUser,
    substitute: Annotated[str, Form(max_length=64)] = "",
    starts_on: Annotated[str, Form(max_length=10)] = "",
    ends_on: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    lang = i18n.language(request, user.language)
    try:
        ends_at = _midnight(_day(ends_on, "ends_on", lang) + timedelta(days=1))
        starts_at = _midnight(_day(starts_on, "starts_on", lang)) if starts_on else None
        with session_scope(engine_of(request)) as session:
            delegations.create(
                session,
                caller=user,
                substitute=substitute.strip(),
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                lang=lang,
            )
    except ProblemError as problem:
        return account_view(request, user, status=problem.status, error=problem)
    return RedirectResponse("/ui/account?saved=delegation", status_code=303)


@router.post("/ui/account/delegations/{delegation_id}/revoke")
def revoke_delegation(
    request: Request,
    user: PostUser,
    delegation_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    lang = i18n.language(request, user.language)
    try:
        with session_scope(engine_of(request)) as session:
            delegations.revoke(session, caller=user, delegation_id=delegation_id, lang=lang)
    except ProblemError as problem:
        return account_view(request, user, status=problem.status, error=problem)
    return RedirectResponse("/ui/account?saved=revoked", status_code=303)
