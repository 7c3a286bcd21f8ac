"""The signed-in user's own account: language and name shown, and the password (local accounts).

A user signed in with a temporary password (an administrator's reset) is sent here by every other
page until they choose their own (api/web/common.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal
from api.identity import accounts
from api.problems import ProblemError
from api.services import delegations
from api.web import i18n
from api.web.common import PageRoute, PostUser, User, engine_of, render
from api.web.session import LANG_COOKIE
from core.db import session_scope
from core.settings import Settings
from core.tables import UserRow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SAVED = ("profile", "password", "delegation", "revoked")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def account_view(
    request: Request,
    user: Principal,
    *,
    status: int = 200,
    error: ProblemError | None = None,
    saved: str | None = None,
) -> Response:
    with session_scope(engine_of(request)) as session:
        row = session.get(UserRow, user.username)
        account = {
            "auth_source": row.auth_source if row else "local",
            "has_password": bool(row and row.password_hash),
            "service_account": bool(row and row.service_account),
            "must_change": bool(row and row.must_change_password),
            "email": row.email if row else None,
            "last_login_at": row.last_login_at if row else None,
            "language": row.language if row else user.language,
        }
        given = delegations.listing(session, caller=_own(user), principal=user.username, limit=20)
        received = delegations.listing(session, caller=_own(user), substitute=user.username, limit=20)
    return render(
        request,
        "account.html",
        user,
        status_code=status,
        account=account,
        problem=error,
        saved=saved,
        min_length=_settings(request).password_min_length,
        given=given,
        received=received,
    )


def _own(user: Principal) -> Principal:
    """The caller without admin or auditor reach: this page lists only their own delegations."""
    return Principal(username=user.username, roles=[], language=user.language)


@router.get("/ui/account")
def account_page(request: Request, user: User, saved: str | None = None) -> Response:
    return account_view(request, user, saved=saved if saved in SAVED else None)


@router.post("/ui/account/profile")
def save_profile(
    request: Request,
    user: PostUser,
    language: Annotated[str, Form(pattern="^(zh|en)$")] = "zh",
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with session_scope(engine_of(request)) as session:
        accounts.update_profile(
            session, username=user.username, language=language, display_name=display_name.strip() or None
        )
    response = RedirectResponse("/ui/account?saved=profile", status_code=303)
    # The switch's cookie would otherwise keep showing the old language in this browser.
    response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.post("/ui/account/password")
def change_password(
    request: Request,
    user: PostUser,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    confirm_password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    lang = i18n.language(request, user.language)
    try:
        if new_password != confirm_password:
            message = i18n.translate(lang, "account.mismatch")
            raise ProblemError(
                422, message, kind="PasswordPolicy", errors=[{"path": "confirm_password", "message": message}]
            )
        with session_scope(engine_of(request)) as session:
            accounts.change_password(
                session,
                _settings(request),
                username=user.username,
                current=current_password,
                new=new_password,
                lang=lang,
            )
    except ProblemError as problem:
        return account_view(request, user, status=problem.status, error=problem)
    request.state.must_change_password = False
    return RedirectResponse("/ui/account?saved=password", status_code=303)
