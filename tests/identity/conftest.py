"""Identity fixtures: the real app built from settings the test chooses (LDAP, OIDC, cheap argon2
parameters), on the shared test database and Temporal client, driven through httpx."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings

BASE = "http://itilflow.test"
# argon2id at its cheapest for tests that hash often (the cost parameters are settings; the
# defaults are what docs/identity.md states and test_passwords checks the rehash with them).
CHEAP = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}


@pytest.fixture
def make_settings(database_url: str, temporal_address: str, task_queue: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "temporal_address": temporal_address,
            "task_queue": task_queue,
            "base_url": BASE,
            **CHEAP,
            **overrides,
        }
        return Settings(**values)

    return build


AppClient = Callable[[Settings], Any]


@pytest.fixture
def web(temporal_client: Client, db_engine: Engine) -> Callable[[Settings], Any]:
    """`async with web(settings) as http:` an httpx client on a fresh app (its own rate limiters)."""

    @asynccontextmanager
    async def open_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings, client=temporal_client, engine=db_engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
            http.app = app  # type: ignore[attr-defined]
            yield http

    return open_client


async def sign_in(http: httpx.AsyncClient, username: str, password: str, **extra: str) -> httpx.Response:
    return await http.post("/ui/sign-in", data={"username": username, "password": password, **extra})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html[:2000]
    return match.group(1)
