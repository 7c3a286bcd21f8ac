"""Sign in (a username and password, local or LDAP; single sign-on with OpenID Connect; a username and
an API token; in dev only, pick a demo user), sign out, and the language switch (docs/identity.md)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from api.access import Public
from api.auth import authenticate
from api.identity import oidc, roles
from api.identity.provision import NotProvisionable, provision
from api.identity.signin import password_sign_in
from api.ratelimit import FailureLimiter
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
    CsrfRefused,
    cookie_value,
    end_session,
    max_age,
    same_origin,
    start_session,
)
from core.db import session_scope
from core.settings import Settings
from core.tables import UserRow

log = logging.getLogger("itilflow.web")
OIDC_COOKIE = "itf_oidc"
OIDC_PATH = "/ui/sign-in/oidc"
OIDC_MAX_AGE = 600  # ten minutes to sign in at the provider

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


def _role_labels(request: Request) -> dict[str, dict[str, str]]:
    """Each role's name in both languages (the built-in ones and those the published processes
    declare), for the demo users' chips: a person reads "服务台", not `service_desk`."""
    if not config(request).dev_login:
        return {}
    with session_scope(engine_of(request)) as session:
        return {name: dict(info.label) for name, info in roles.catalogue(session).items()}


@router.get("/", dependencies=[Public])
def root(request: Request) -> Response:
    return RedirectResponse("/ui/inbox" if optional_user(request) else "/ui/sign-in", status_code=303)


@router.get("/ui", dependencies=[Public])
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
        role_labels=_role_labels(request),
        password_login=_settings(request).password_login,
        oidc_enabled=oidc.enabled(_settings(request)),
        oidc_label=_settings(request).oidc_label,
        error=error,
    )


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _signed_in(
    request: Request, *, username: str, token_id: str, next_url: str, must_change: bool
) -> Response:
    target = "/ui/account" if must_change else safe_next(next_url)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie_value(config(request).signer, username=username, token_id=token_id),
        max_age=max_age(_settings(request)),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/ui/sign-in", dependencies=[Public])
def sign_in_form(request: Request, next: str = "/ui/inbox") -> Response:
    return _sign_in_page(request, next_url=next)


@router.post("/ui/sign-in", dependencies=[Public])
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    token: Annotated[str, Form(max_length=400)] = "",
    next: Annotated[str, Form(max_length=500)] = "/ui/inbox",
) -> Response:
    if not same_origin(request):
        raise CsrfRefused("the request comes from another site")
    lang = i18n.language(request)
    username = username.strip()
    engine = engine_of(request)
    settings = _settings(request)
    # Failed sign-ins count per client address with the API's failed tokens (api/ratelimit.py).
    limiter: FailureLimiter = request.app.state.auth_failures
    address = f"addr:{_client_address(request)}"
    wait = limiter.retry_after(address)
    if wait is not None:
        message = i18n.translate(lang, "signin.too_many", seconds=wait)
        return _sign_in_page(request, next_url=next, error=message, status=429)
    if password and not token.strip() and settings.password_login:
        with session_scope(engine) as session:
            outcome = password_sign_in(
                session, settings, request.app.state.login_failures, username=username, password=password
            )
            token_id = (
                start_session(session, username=outcome.user.username) if outcome.user is not None else None
            )
            must_change = bool(outcome.user and outcome.user.must_change_password)
        if token_id is None:
            if not outcome.unavailable:
                limiter.failed(address)
            status = 423 if outcome.locked_until else 503 if outcome.unavailable else 401
            return _sign_in_page(request, next_url=next, error=outcome.message(lang), status=status)
        return _signed_in(
            request, username=username, token_id=token_id, next_url=next, must_change=must_change
        )
    with session_scope(engine) as session:
        if token.strip():
            who = authenticate(session, token.strip())
            if who is None or who.username != username:
                limiter.failed(address)
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
    return _signed_in(request, username=username, token_id=token_id, next_url=next, must_change=False)


@router.get(OIDC_PATH, dependencies=[Public])
def oidc_start(request: Request, next: str = "/ui/inbox") -> Response:
    """Off to the identity provider, with a fresh state, nonce and PKCE verifier in a signed cookie."""
    settings = _settings(request)
    lang = i18n.language(request)
    if not oidc.enabled(settings):
        return _sign_in_page(request, next_url=next, error=i18n.translate(lang, "signin.no_sso"), status=404)
    try:
        url, pending = oidc.provider(settings).start(_redirect_uri(settings), safe_next(next[:500]))
    except oidc.OidcError as exc:
        log.error("OIDC sign-in cannot start: %s", exc)
        return _sign_in_page(
            request, next_url=next, error=i18n.translate(lang, "signin.sso_failed"), status=503
        )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        OIDC_COOKIE,
        config(request).signer.sign(pending.as_dict()),
        max_age=OIDC_MAX_AGE,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax cookies come along
        secure=request.url.scheme == "https",
        path=OIDC_PATH,
    )
    return response


def _redirect_uri(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + OIDC_PATH + "/callback"


@router.get(OIDC_PATH + "/callback", dependencies=[Public])
def oidc_callback(
    request: Request, code: str = "", state: str = "", error: str = "", error_description: str = ""
) -> Response:
    """The provider sends the browser back here with a code: exchange it, check the ID token, sign in."""
    settings = _settings(request)
    lang = i18n.language(request)
    raw = request.cookies.get(OIDC_COOKIE)
    data = config(request).signer.unsign(raw) if raw else None
    pending = oidc.Pending.from_dict(data, OIDC_MAX_AGE) if data is not None else None
    failed = i18n.translate(lang, "signin.sso_failed")
    if not oidc.enabled(settings) or pending is None:
        return _oidc_failure(request, i18n.translate(lang, "signin.sso_expired"))
    if error:
        log.warning("OIDC provider answered %s: %s", error[:100], error_description[:200])
        return _oidc_failure(request, i18n.translate(lang, "signin.sso_denied"))
    try:
        identity = oidc.provider(settings).finish(_redirect_uri(settings), pending, code=code, state=state)
    except oidc.OidcError as exc:
        log.warning("OIDC sign-in failed: %s", exc)
        return _oidc_failure(request, failed)
    with session_scope(engine_of(request)) as session:
        try:
            user = provision(session, settings, identity, settings.oidc_group_map)
        except NotProvisionable as exc:
            log.warning("OIDC sign-in refused: %s", exc)
            user = None
        if user is None or not user.active:
            token_id = None
        else:
            token_id = start_session(session, username=user.username)
    if token_id is None:
        return _oidc_failure(request, failed)
    response = _signed_in(
        request, username=identity.username, token_id=token_id, next_url=pending.next_url, must_change=False
    )
    response.delete_cookie(OIDC_COOKIE, path=OIDC_PATH)
    return response


def _oidc_failure(request: Request, message: str) -> Response:
    response = _sign_in_page(request, next_url="/ui/inbox", error=message, status=401)
    response.delete_cookie(OIDC_COOKIE, path=OIDC_PATH)
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request, user: PostUser) -> Response:
    end_session(engine_of(request), user)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/ui/lang/{lang}", dependencies=[Public])
def switch_language(request: Request, lang: str, next: str = "/ui/inbox") -> Response:
    """Switch this browser's page language (a GET changes no profile: the account page does that)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
