"""`/healthz`: is the API able to do its job (database and Temporal reachable)?"""

from __future__ import annotations

import asyncio
import time

from anyio.to_thread import run_sync
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from api.access import Public
from api.deps import EngineDep, TemporalConnection
from api.schemas import HealthOut, HealthWarning
from core.db import session_scope
from schedule import calendars

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
    warnings: list[HealthWarning] = []
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        warnings = await run_sync(_calendar_warnings, engine)
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
    body = HealthOut(
        status="ok" if ok else "unavailable", temporal=temporal, database=database, warnings=warnings
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


WARNINGS_TTL_S = 300.0
_cached: dict[int, tuple[float, list[HealthWarning]]] = {}


def _calendar_warnings(engine: Engine) -> list[HealthWarning]:
    """One warning per shared or own calendar in use that runs out of declared holidays soon (a calendar
    named by several processes is warned about once per process: each process owner acts on theirs).
    Kept five minutes: probes call the health endpoint every few seconds, and it parses definitions."""
    hit = _cached.get(id(engine))
    if hit is not None and time.monotonic() - hit[0] < WARNINGS_TTL_S:
        return hit[1]
    with session_scope(engine) as session:
        found = [
            HealthWarning(kind="calendar", message_en=c.message_en or "", message_zh=c.message_zh or "")
            for c in calendars.warnings(session)
        ]
    _cached[id(engine)] = (time.monotonic(), found)
    return found
