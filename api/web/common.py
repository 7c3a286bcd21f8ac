"""What every page shares: the signed-in user, CSRF, rendering, and errors shown as pages.

Pages call the same service functions as the API with the same `Principal`, so a page can never do
more than its user could through the API. A `ProblemError` raised by a service (403 with the rule that
refused, 409, 422 with field paths) is rendered in the page instead of JSON: as an alert fragment for
htmx requests, else as an error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from api.access import SIGNED_IN, declares, roles_dependency
from api.auth import Principal
from api.identity import roles
from api.problems import ProblemError, validation_problem
from api.web import audit_words, forms, i18n
from api.web.assets import StaticAssets
from api.web.session import CsrfRefused, Signer, SignInRequired, check_post, principal
from core.db import session_scope

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Jinja2Templates(directory=str(ROOT / "templates"))
STATIC = ROOT / "static"
ASSETS = StaticAssets(STATIC)  # served at /static (api/web/__init__.py); templates link `asset(name)`

# Who sees which part of the page; the same roles the API checks (api/deps.py, api/routes/reports.py).
OWNER_ROLES = ("process_owner", "admin")
REPORT_ROLES = ("agent", "approver", "process_owner", "admin")


@dataclass
class WebConfig:
    signer: Signer
    dev_login: bool

    @property
    def has_mermaid(self) -> bool:
        return (STATIC / "vendor" / "mermaid.min.js").exists()


def config(request: Request) -> WebConfig:
    value: WebConfig = request.app.state.web
    return value


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def optional_user(request: Request) -> Principal | None:
    return principal(request, config(request).signer, engine_of(request))


class PasswordChangeRequired(Exception):
    """The user signed in with a temporary password: only the account page is open until it is changed."""


# What a user with a temporary password may still reach (api/web/account.py, signin.py).
_OPEN_WITH_TEMPORARY_PASSWORD = ("/ui/account", "/ui/sign-out", "/ui/lang/")


@declares(SIGNED_IN)  # the access policy of a page that takes `User` or `PostUser` (api/access.py)
def current_user(request: Request) -> Principal:
    user = optional_user(request)
    if user is None:
        raise SignInRequired()
    if getattr(request.state, "must_change_password", False) and not request.url.path.startswith(
        _OPEN_WITH_TEMPORARY_PASSWORD
    ):
        raise PasswordChangeRequired()
    return user


@declares(SIGNED_IN)
async def checked_user(request: Request) -> Principal:
    """The user of a POST, after the origin and CSRF checks."""
    user = current_user(request)
    form_token = None
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form_token = str((await request.form()).get("csrf") or "") or None
    check_post(request, config(request).signer, user, form_token)
    return user


User = Annotated[Principal, Depends(current_user)]
PostUser = Annotated[Principal, Depends(checked_user)]
# Pages for some roles only: the API's role checks (api/deps.py), declared the same way.
OwnerPage = Annotated[Principal, Depends(roles_dependency(OWNER_ROLES, current_user))]
OwnerPost = Annotated[Principal, Depends(roles_dependency(OWNER_ROLES, checked_user))]
ReportPage = Annotated[Principal, Depends(roles_dependency(REPORT_ROLES, current_user))]
AuditPage = Annotated[Principal, Depends(roles_dependency(("admin", "auditor"), current_user))]
AdminPage = Annotated[Principal, Depends(roles_dependency(("admin",), current_user))]
AdminPost = Annotated[Principal, Depends(roles_dependency(("admin",), checked_user))]
ChangeManagerPost = Annotated[Principal, Depends(roles_dependency(("change_manager", "admin"), checked_user))]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# --- rendering ----------------------------------------------------------------------------------------


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def human_duration(value: str | None, lang: str = "en") -> str:
    """`PT3H20M` → `3h 20m` (zh: `3小时 20分`)."""
    if not value:
        return "—"
    match = _DURATION.match(value)
    if not match:
        return value
    days, hours, minutes, seconds = (float(x) if x else 0.0 for x in match.groups())
    units = ("天", "小时", "分", "秒") if lang == "zh" else ("d", "h", "m", "s")
    parts = [f"{int(n)}{u}" for n, u in zip((days, hours, minutes, seconds), units, strict=True) if n]
    return " ".join(parts[:2]) or ("0" + units[3])


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def when(value: Any) -> str:
    """A date-time as UTC text; the page's script rewrites it in the reader's own time zone."""
    moment = as_datetime(value)
    if moment is None:
        return "—" if value in (None, "") else str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment.tzinfo else moment.strftime("%Y-%m-%d %H:%M")


def iso(value: Any) -> str:
    moment = as_datetime(value)
    return moment.isoformat() if moment else ""


TEMPLATES.env.filters["when"] = when
TEMPLATES.env.filters["iso"] = iso
TEMPLATES.env.globals["pick"] = i18n.pick
TEMPLATES.env.filters["humanize"] = i18n.humanize
TEMPLATES.env.filters["local_input"] = forms.local_input
TEMPLATES.env.globals["asset"] = ASSETS.url


def render(
    request: Request,
    template: str,
    user: Principal | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = i18n.language(request, user.language if user else None)
    cfg = config(request)

    def t(key: str, /, **values: Any) -> str:
        return i18n.translate(lang, key, **values)

    catalogue: dict[str, Any] = {}

    def role_label(name: str) -> str:
        """A role as people read it: the page's words for the built-in roles, else the label the
        published processes give it (read once per page, when a page names such a role), else the
        standard library's words for it."""
        key = f"role.{name}"
        if name in roles.BUILTIN:
            return t(key)
        if not catalogue:
            with session_scope(engine_of(request)) as session:
                catalogue.update({n: dict(info.label) for n, info in roles.catalogue(session).items()})
        text = i18n.pick(catalogue.get(name), lang, name)
        if text in (name, name.replace("_", " ")) and (words := t(key)) != key:
            # No published process labels it: the standard library's words for its roles
            # (i18n/{lang}.roles.json), so a holder of a role whose process is not published yet
            # still reads as a person would say it.
            return words
        return text

    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "lang": lang,
        "t": t,
        "role_label": role_label,
        "detail_text": lambda key, value: audit_words.detail_value(key, value, lang, role_label),
        "detail_key": lambda key: audit_words.detail_key(key, lang),
        "dur": lambda v: human_duration(v, lang),
        "csrf": cfg.signer.csrf(user.token_id) if user and user.token_id else "",
        "has_mermaid": cfg.has_mermaid,
        "can_own": bool(user and user.has_role(*OWNER_ROLES)),
        "can_report": bool(user and user.has_role(*REPORT_ROLES)),
        "path": request.url.path,
        "here": quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/"),
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code, headers=headers)


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/ui/sign-in?next={target}" if request.method == "GET" else "/ui/sign-in"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def problem_page(request: Request, problem: ProblemError, user: Principal | None) -> Response:
    if is_htmx(request):
        # Every htmx form targets its own error slot; htmx swaps only 2xx answers by default.
        return render(request, "partials/alert.html", user, problem=problem)
    return render(request, "error.html", user, problem=problem, status_code=problem.status)


class PageRoute(APIRoute):
    """Turns sign-in and service errors into pages instead of the API's JSON problems."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except PasswordChangeRequired:
                if is_htmx(request):
                    # No redirect: the account page's own partial requests (the inbox count) would loop.
                    return Response(status_code=403)
                return RedirectResponse("/ui/account", status_code=303)
            except CsrfRefused as exc:
                problem = ProblemError(403, str(exc), kind="CsrfRefused")
                return problem_page(request, problem, optional_user(request))
            except ProblemError as problem:
                return problem_page(request, problem, optional_user(request))
            except RequestValidationError as exc:
                return _unparsed_address(request, exc)

        return run


def _unparsed_address(request: Request, exc: RequestValidationError) -> Response:
    """A page address whose parts do not parse. A bad path part (an unknown download format) is no
    page at all; a bad query value gets a page in the reader's language — the API's
    validation problem names internal field keys and speaks English."""
    user = optional_user(request)
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return render(request, "page_missing.html", user, status_code=404)
    if any(error.get("loc", ("",))[0] == "body" for error in exc.errors()):
        return problem_page(request, validation_problem(exc), user)
    lang = i18n.language(request, user.language if user else None)
    return problem_page(request, ProblemError(422, i18n.translate(lang, "error.bad_address")), user)
