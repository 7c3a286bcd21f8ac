"""Sign in (dev: pick a demo user; always: username + API token), sign out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from api.auth import authenticate
from api.web import i18n
from api.web.common import (
    PageRoute,
    PostUser,
    config,
    engine_of,
    optional_user,
    render,
)
from api.web.session import (
    COOKIE,
    LANG_COOKIE,
    MAX_AGE,
    CsrfRefused,
    cookie_value,
    end_session,
    same_origin,
    start_session,
)
from core.db import session_scope
from core.tables import UserRow

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only paths of this site: an open redirect would let a link sign people in to somewhere else."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/inbox"


def _demo_users(request: Request) -> list[UserRow]:
    if not config(request).dev_login:
        return []
    with session_scope(engine_of(request)) as session:
        rows = session.exec(
            select(UserRow)
            .where(col(UserRow.active), col(UserRow.service_account).is_(False))
            .order_by(col(UserRow.username))
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


@router.get("/")
def root(request: Request) -> Response:
    return RedirectResponse("/ui/inbox" if optional_user(request) else "/ui/sign-in", status_code=303)


@router.get("/ui")
def ui_root() -> Response:
    return RedirectResponse("/ui/inbox", status_code=303)


def _sign_in_page(
    request: Request, *, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "sign_in.html",
        None,
        status_code=status,
        next_url=safe_next(next_url),
        dev_login=config(request).dev_login,
        demo_users=_demo_users(request),
        error=error,
    )


@router.get("/ui/sign-in")
def sign_in_form(request: Request, next: str = "/ui/inbox") -> Response:
    return _sign_in_page(request, next_url=next)


@router.post("/ui/sign-in")
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    token: Annotated[str, Form(max_length=400)] = "",
    next: Annotated[str, Form(max_length=500)] = "/ui/inbox",
) -> Response:
    if not same_origin(request):
        raise CsrfRefused("the request comes from another site")
    lang = i18n.language(request)
    username = username.strip()
    engine = engine_of(request)
    with session_scope(engine) as session:
        if token.strip():
            who = authenticate(session, token.strip())
            if who is None or who.username != username:
                # One message for every failure, like the API: it must not reveal which part was wrong.
                error = i18n.translate(lang, "signin.bad_token")
                return _sign_in_page(request, next_url=next, error=error, status=401)
        elif not config(request).dev_login:
            return _sign_in_page(
                request, next_url=next, error=i18n.translate(lang, "signin.token_needed"), status=401
            )
        try:
            token_id = start_session(session, username=username)
        except LookupError:
            return _sign_in_page(
                request, next_url=next, error=i18n.translate(lang, "signin.bad_token"), status=401
            )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        cookie_value(config(request).signer, username=username, token_id=token_id),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request, user: PostUser) -> Response:
    end_session(engine_of(request), user)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/ui/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/ui/inbox") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
