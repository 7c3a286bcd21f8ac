"""`/metrics`: the API process's metrics for Prometheus (ours, Temporal's client, the process's).

No user token: Prometheus is not a user. With `ITILFLOW_METRICS_TOKEN` set, the scraper sends it as
`Authorization: Bearer`; without it, only loopback clients are answered (a Prometheus agent on the
same machine, `itilflow dev`). The figures carry no record data: their labels are definition keys,
triggers, rule kinds and outcomes (core/metrics.py).
"""

from __future__ import annotations

from anyio.to_thread import run_sync
from fastapi import APIRouter, Request, Response

from api.access import Public
from api.deps import EngineDep
from api.problems import ProblemError, responses
from api.services.metrics import refresh_approvals
from core.metrics import exposition, scrape_allowed

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    dependencies=[Public],
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus's text exposition format (version 0.0.4).",
        },
        **responses(401, 403),
    },
)
async def metrics(request: Request, engine: EngineDep) -> Response:
    """Counters, gauges and histograms for Prometheus: actions by definition, trigger and outcome,
    refusals by rule, approvals waiting and the oldest one's age, the Temporal client's requests."""
    token = request.app.state.settings.metrics_token
    secret = token.get_secret_value() if token is not None else None
    host = request.client.host if request.client else None
    if not scrape_allowed(secret, request.headers.get("authorization"), host):
        if secret:
            raise ProblemError(
                401,
                "metrics need the metrics token (ITILFLOW_METRICS_TOKEN) as a Bearer token",
                kind="Unauthenticated",
                headers={"WWW-Authenticate": "Bearer"},
                zh="读取指标需要以 Bearer 方式提供指标令牌（ITILFLOW_METRICS_TOKEN）",
            )
        raise ProblemError(
            403,
            "metrics are answered to this machine only unless ITILFLOW_METRICS_TOKEN is set",
            kind="NotAllowed",
            zh="未设置 ITILFLOW_METRICS_TOKEN 时，指标只对本机开放",
        )
    await run_sync(refresh_approvals, engine)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
