"""The FastAPI application: `create_app()` wires settings, database, Temporal and the routers.

Tests and `itilflow dev` inject a Temporal client and an engine; `itilflow api` lets the lifespan
migrate the database and connect to Temporal from the settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import sqlalchemy
import temporalio.client
from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api import problems, telemetry, web
from api.deps import TemporalConnection
from api.guard import RequestGuard
from api.headers import SecurityHeaders
from api.problems import ProblemDetails
from api.ratelimit import FailureLimiter
from api.routes import (
    admin,
    approvals,
    attachments,
    calendars,
    ci_changes,
    cmdb,
    cmdb_model,
    definitions,
    delegations,
    health,
    identity,
    metrics,
    processes,
    record_schedule,
    reports,
    schedule,
    schedule_feeds,
    schedules,
    sla,
)
from core.db import make_engine, migrate
from core.settings import Settings, get_settings

log = logging.getLogger("itilflow.api")

DESCRIPTION = """ITIL processes as durable state machines.

Authenticate with `Authorization: Bearer <token>`. Errors are RFC 9457 problem details
(`application/problem+json`). Send an `Idempotency-Key` header with every POST that creates or acts:
a retry with the same key and body returns the original answer and changes nothing more.
"""


def create_app(
    settings: Settings | None = None,
    *,
    client: temporalio.client.Client | None = None,
    engine: sqlalchemy.Engine | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = None
        if app.state.engine is None:
            url = settings.resolved_database_url()
            migrate(url)
            own_engine = app.state.engine = make_engine(url)
        if app.state.temporal.client is None:
            try:
                await app.state.temporal.get()
            except Exception as exc:  # noqa: BLE001 - retried on first use; /healthz reports it
                log.warning("Temporal is not reachable yet (%s); will retry on first use", type(exc).__name__)
        try:
            yield
        finally:
            if own_engine is not None:
                own_engine.dispose()

    app = FastAPI(
        title="itilflow",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.temporal = TemporalConnection(settings, client)
    app.state.auth_failures = FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window)
    # Wrong passwords for usernames without an account lock like an account's (api/identity/signin.py).
    app.state.login_failures = FailureLimiter(settings.lockout_threshold, settings.lockout_minutes * 60)
    problems.install(app)
    # Outermost last: security headers on every answer, then the Host check, then the body guard,
    # all before routing and authentication.
    app.add_middleware(
        RequestGuard, max_bytes=settings.max_request_bytes, upload_bytes=settings.attachment_max_bytes
    )
    hosts = allowed_hosts(settings)
    if hosts != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.add_middleware(SecurityHeaders, docs_path=app.docs_url)
    for module in (
        health,
        definitions,
        processes,
        attachments,
        approvals,
        admin,
        identity,
        delegations,
        reports,
        cmdb_model,
        cmdb,
        ci_changes,
        schedule,
        schedule_feeds,
        sla,
        calendars,
        record_schedule,
        metrics,
        schedules,
    ):
        app.include_router(module.router)
    # --- Web page include point (api/web, owned by the web page issue) -----------------------------
    # Pages under /ui, `/` redirect, /static assets, and /docs from local Swagger UI files.
    web.install(
        app,
        dev_login=settings.dev_login,
        secret=settings.web_secret.get_secret_value().encode() if settings.web_secret else None,
    )
    _register_problem_schema(app)
    telemetry.instrument(app)  # request spans, when tracing is on (core/tracing.py)
    return app


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host names served. `itilflow dev` signs anyone in as any demo user, so unless hosts are
    configured it answers loopback names only: a web page elsewhere cannot reach it by DNS rebinding."""
    hosts = [h.strip() for h in settings.allowed_hosts.split(",") if h.strip()] or ["*"]
    if hosts == ["*"] and settings.dev_login:
        base = urlsplit(settings.base_url).hostname
        hosts = sorted(
            {"127.0.0.1", "localhost", *([base] if base and base not in ("0.0.0.0", "::") else [])}
        )
    return hosts


def _register_problem_schema(app: FastAPI) -> None:
    """Make `ProblemDetails` a named component, so error responses refer to it by `$ref`."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault(
                "ProblemDetails",
                ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}"),
            )
            for name, sub in (
                ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
                .get("$defs", {})
                .items()
            ):
                components.setdefault(name, sub)
            components["ProblemDetails"].pop("$defs", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
