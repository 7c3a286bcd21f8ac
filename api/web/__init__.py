"""The web page: server-rendered (Jinja2 + htmx) pages on the same app and the same services as the API.

`install(app, dev_login=..., secret=...)` mounts the pages under `/ui`, `/` (redirect), the static
assets under `/static`, and serves Swagger UI from those assets when they were fetched
(`python -m api.web.vendor`). Nothing is loaded from a CDN.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.web import (
    account,
    admin,
    agreements,
    cmdb,
    create,
    dashboard,
    delegations,
    editing,
    inbox,
    not_found,
    record_exports,
    records,
    schedule,
    service_reports,
    signin,
    studio,
)
from api.web.common import STATIC, WebConfig
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
        record_exports,  # before `records`: /ui/records/export.csv is not a record
        records,
        editing,
        studio,
        dashboard,
        cmdb,
        schedule,
        agreements,
        service_reports,
        not_found,  # last: it answers every /ui path no page above took
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _local_swagger_ui(app)


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
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.add_route(docs, swagger_ui, include_in_schema=False)
