"""Property-based check of the whole HTTP API from its own OpenAPI schema: no request makes it fail (5xx).

The app runs as it ships: uvicorn in a thread with its own event loop, the lifespan migrating the
database and connecting to Temporal from settings, and a real worker on its own task queue. Every
operation gets a bounded number of generated requests, authenticated as an administrator so the
fuzzing reaches past authentication.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine

from api.app import create_app
from api.auth import issue_token
from client.connection import connect
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from worker.registry import build_worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread(threading.Thread):
    def __init__(self, settings: Settings, engine: Engine, port: int) -> None:
        super().__init__(daemon=True)
        self.settings, self.engine, self.port = settings, engine, port
        self.started = threading.Event()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
            self.started.set()

    async def _main(self) -> None:
        client = await connect(self.settings.temporal_address or "", self.settings.temporal_namespace)
        async with build_worker(client, self.engine, self.settings.task_queue):
            config = uvicorn.Config(
                create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
            )
            self.server = uvicorn.Server(config)
            serving = asyncio.create_task(self.server.serve())
            while not self.server.started and not serving.done():
                await asyncio.sleep(0.05)
            self.started.set()
            await serving


@pytest.fixture(scope="module")
def api_base(db_engine: Engine, database_url: str, temporal_address: str) -> Iterator[str]:
    settings = Settings(
        database_url=database_url, temporal_address=temporal_address, task_queue=f"fuzz-{uuid.uuid4().hex}"
    )
    port = _free_port()
    thread = ServerThread(settings, db_engine, port)
    thread.start()
    assert thread.started.wait(60), "the API did not start"
    assert thread.error is None, thread.error
    yield f"http://127.0.0.1:{port}"
    assert thread.server is not None
    thread.server.should_exit = True
    thread.join(30)


@pytest.fixture(scope="module")
def admin_token(db_engine: Engine) -> str:
    with session_scope(db_engine) as session:
        upsert_user(session, username="fuzzadmin", roles=["admin", "process_owner", "agent"], language="en")
        return issue_token(session, username="fuzzadmin", name="schemathesis")


# FastAPI writes OpenAPI 3.1, which schemathesis 3 supports behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()


@pytest.fixture(scope="module")
def api_schema(api_base: str) -> Any:
    return schemathesis.from_uri(f"{api_base}/openapi.json", base_url=api_base)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_request_makes_the_api_fail(case: Any, admin_token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    case.validate_response(response, checks=(not_a_server_error,))
