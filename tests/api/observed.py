"""The API and a worker on a client that carries this process's Temporal runtime (metrics bridged
into /metrics) and, when tracing is on, the tracing interceptor: what `itilflow api` and
`itilflow worker` build (client/connection.py `observed`), on the test session's Temporal server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from client.connection import observed
from core.converter import data_converter
from core.settings import Settings
from tests.api.conftest import Api
from worker.registry import build_worker


@contextlib.asynccontextmanager
async def observed_stack(
    settings: Settings, engine: Engine, tokens: dict[str, str], *, client_host: str = "127.0.0.1"
) -> AsyncIterator[tuple[Api, Client]]:
    client = await Client.connect(
        settings.temporal_address or "", data_converter=data_converter, **observed()
    )
    async with build_worker(client, engine, settings.task_queue):
        app = create_app(settings, client=client, engine=engine)
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield Api(http, tokens), client
