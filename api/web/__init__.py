"""The web page: server-rendered (Jinja2 + htmx) pages on the same app and the same services as the API.

`install(app, dev_login=..., secret=...)` mounts the pages under `/ui`, `/` (redirect), the static
assets under `/static` (content-hashed names, compressed: api/web/assets.py), and serves Swagger UI
from those assets when they were fetched (`python -m api.web.vendor`). Nothing is loaded from a CDN.
"""

from __future__ import annotations

import inspect
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.problems import ProblemError
from api.web import (
    account,
    admin,
    agreements,
    attachments,
    cmdb,
    cmdb_export,
    create,
    dashboard,
    delegations,
    editing,
    i18n,
    inbox,
    list_exports,
    record_exports,
    record_schedules,
    records,
    schedule,
    schedule_export,
    service_reports,
    signin,
    studio,
)
from api.web.common import ASSETS, STATIC, WebConfig, optional_user, problem_page, render
from api.web.session import Signer


def install(app: FastAPI, *, dev_login: bool = False, secret: bytes | None = None) -> None:
    app.state.web = WebConfig(signer=Signer(secret), dev_login=dev_login)
    # `create` before `records`: /ui/records/new must not be read as the record 'new'.
    for module in (
        signin,
        account,
        delegations,
        admin,
        inbox,
        create,
        attachments,
        record_exports,  # before `records`: /ui/records/export.csv is not a record
        records,
        editing,
        studio,
        dashboard,
        cmdb_export,
        cmdb,
        schedule_export,
        schedule,
        list_exports,  # before `record_schedules` and `agreements`: export.csv is not an id or a key
        record_schedules,
        agreements,
        service_reports,
    ):
        app.include_router(module.router)
    app.mount("/static", ASSETS, name="static")
    _local_swagger_ui(app)
    _pages_for_errors(app)


def _pages_for_errors(app: FastAPI) -> None:
    """An address under /ui that no page answers (404, 405) gets a page in the reader's language; the
    API's addresses keep their JSON problems (api/problems.py)."""
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        if not (path == "/ui" or path.startswith("/ui/")):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        user = optional_user(request)
        if exc.status_code == 404:
            return render(request, "page_missing.html", user, status_code=404)
        lang = i18n.language(request, user.language if user else None)
        key = f"error.http_{exc.status_code}"
        words = i18n.translate(lang, key)
        detail = words if words != key else HTTPStatus(exc.status_code).phrase
        return problem_page(
            request, ProblemError(exc.status_code, detail, headers=dict(exc.headers or {})), user
        )

    app.add_exception_handler(StarletteHTTPException, on_http)


def _local_swagger_ui(app: FastAPI) -> None:
    """Serve /docs from local Swagger UI files instead of FastAPI's CDN links, when they exist."""
    vendor = STATIC / "vendor"
    if not (vendor / "swagger-ui-bundle.js").exists() or app.docs_url is None:
        return
    docs = app.docs_url
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) != docs]

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=ASSETS.url("vendor/swagger-ui-bundle.js"),
            swagger_css_url=ASSETS.url("vendor/swagger-ui.css"),
            swagger_favicon_url=ASSETS.url("favicon.svg"),
        )

    app.add_route(docs, swagger_ui, include_in_schema=False)
