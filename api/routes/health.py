"""`/healthz`: is the API able to do its job (database and Temporal reachable)?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.access import Public
from api.deps import EngineDep, TemporalConnection
from api.schemas import HealthOut

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 5.0


@router.get(
    "/healthz",
    response_model=HealthOut,
    dependencies=[Public],
    responses={503: {"model": HealthOut, "description": "A part is down"}},
)
async def healthz(request: Request, engine: EngineDep) -> JSONResponse:
    """Health of the API and what it depends on; 503 names the failing part."""
    database = "ok"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means the same: unavailable
        database = f"unavailable: {type(exc).__name__}"
    temporal = "ok"
    connection: TemporalConnection = request.app.state.temporal
    try:
        client = await asyncio.wait_for(connection.get(), CHECK_TIMEOUT)
        await asyncio.wait_for(client.service_client.check_health(), CHECK_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        temporal = f"unavailable: {type(exc).__name__}"
    ok = database == "ok" and temporal == "ok"
    body = HealthOut(status="ok" if ok else "unavailable", temporal=temporal, database=database)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
