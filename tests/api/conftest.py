"""API fixtures: the real app (injected Temporal client and engine) on the test's task queue,
tokens for the directory users, and a helper to publish a copy of mini.yaml under a fresh key.

Each test publishes its own definition key, so tests never depend on one another's versions and
reruns against the same PostgreSQL database stay correct.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from tests.conftest import DIRECTORY, FIXTURES

# Users the API tests need beyond the shared directory: a process owner, an admin, an integrator.
API_USERS = [
    ("owner", ["process_owner"], [], "en"),
    ("root", ["admin"], [], "en"),
    ("bot", ["integrator"], [], "en"),
]
MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tokens(db_engine: Engine) -> dict[str, str]:
    """username -> a fresh API token (one per test session)."""
    out: dict[str, str] = {}
    with session_scope(db_engine) as session:
        for name, roles, groups, lang in API_USERS:
            upsert_user(
                session,
                username=name,
                roles=roles,
                groups=groups,
                language=lang,
                service_account=name == "bot",
            )
        for name, *_ in DIRECTORY + API_USERS:
            out[name] = issue_token(session, username=name, name="tests")
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """An httpx client with one method per user: `await api.as_("bob").post(...)`."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http = http
        self.tokens = tokens

    def headers(self, user: str, key: str | None = None) -> dict[str, str]:
        headers = auth(self.tokens[user])
        if key:
            headers["Idempotency-Key"] = key
        return headers

    async def get(self, user: str, url: str, **kw: Any) -> httpx.Response:
        return await self.http.get(url, headers=self.headers(user), **kw)

    async def post(
        self, user: str, url: str, json: Any = None, key: str | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.http.post(
            url, json=json, headers={**self.headers(user, key), **kw.pop("headers", {})}, **kw
        )

    async def patch(self, user: str, url: str, json: Any = None, key: str | None = None) -> httpx.Response:
        return await self.http.patch(url, json=json, headers=self.headers(user, key))

    async def publish_mini(self, key: str | None = None, source: str | None = None) -> str:
        """Draft and publish a copy of mini.yaml under a fresh key, as the process owner."""
        key = key or f"mini_{uuid.uuid4().hex[:8]}"
        text = (source or MINI).replace("key: mini\n", f"key: {key}\n", 1)
        r = await self.http.post(
            "/api/v1/definitions",
            content=text,
            headers={**self.headers("owner"), "Content-Type": "application/yaml"},
        )
        assert r.status_code == 201, r.text
        version = r.json()["version"]
        r = await self.post("owner", f"/api/v1/definitions/{key}/versions/{version}/publish")
        assert r.status_code == 200, r.text
        return key

    async def create(
        self,
        user: str,
        definition: str,
        title: str = "Printer on fire",
        key: str | None = None,
        **fields: Any,
    ) -> httpx.Response:
        body = {"definition": definition, "title": title, "fields": {"impact": "2", "urgency": "2", **fields}}
        return await self.post(user, "/api/v1/processes", body, key=key)


@pytest.fixture
def settings(database_url: str, task_queue: str, temporal_address: str) -> Settings:
    return Settings(database_url=database_url, task_queue=task_queue, temporal_address=temporal_address)


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    settings: Settings, temporal_client: Client, db_engine: Engine, tokens: dict[str, str], worker: object
) -> AsyncIterator[Api]:
    app = create_app(settings, client=temporal_client, engine=db_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield Api(http, tokens)


@pytest_asyncio.fixture(loop_scope="session")
async def mini(api: Api) -> str:
    """The key of a freshly published copy of mini.yaml."""
    return await api.publish_mini()
