"""Hostile and oversized input against the real app and a real Temporal server (issue 15).

Each test reproduces an attack that once stalled, crashed or misled the service and asserts the
refusal: a clear 4xx that names the rule, and nothing changed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings
from tests.api.conftest import Api, auth


def _alias_bomb(levels: int) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


async def test_an_alias_bomb_is_refused_at_once_and_names_the_limit(api: Api) -> None:
    t0 = time.perf_counter()
    r = await api.http.post(
        "/api/v1/definitions/validate",
        content=_alias_bomb(10),
        headers={**api.headers("alice"), "Content-Type": "application/yaml"},
    )
    assert time.perf_counter() - t0 < 2
    assert r.status_code in (200, 422), r.text
    body = r.json()
    text = str(body)
    assert "aliases expand this to" in text and "line " in text


async def test_deep_nesting_is_a_422_not_a_500(api: Api) -> None:
    r = await api.http.post(
        "/api/v1/definitions/validate",
        content="[" * 1000 + "]" * 1000,
        headers={**api.headers("alice"), "Content-Type": "application/yaml"},
    )
    assert r.status_code in (200, 422) and "nest more than 32 levels" in r.text


async def test_an_oversized_body_is_refused_before_authentication(api: Api) -> None:
    """A large POST without a token: refused from its Content-Length, before anything is read."""
    big = b"x" * (2 * 1024 * 1024)
    r = await api.http.post("/api/v1/processes", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"y" * 65536  # 4 MiB streamed without a Content-Length

    r = await api.http.post("/api/v1/processes", content=chunks(), headers=auth(api.tokens["alice"]))
    assert r.status_code == 413


async def test_every_answer_carries_security_headers(api: Api) -> None:
    for url in ("/api/v1/me", "/healthz", "/ui/sign-in"):
        r = await api.get("alice", url)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"


async def test_failed_authentication_is_rate_limited_with_retry_after(
    settings: Settings, temporal_client: Client, db_engine: Engine, tokens: dict[str, str], worker: object
) -> None:
    settings = settings.model_copy(update={"auth_failure_limit": 5})
    app = create_app(settings, client=temporal_client, engine=db_engine)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        token_id = tokens["alice"].split("_")[1]
        for _ in range(5):
            r = await http.get("/api/v1/me", headers=auth(f"itf_{token_id}_wrong"))
            assert r.status_code == 401
        r = await http.get("/api/v1/me", headers=auth(tokens["alice"]))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "too many failed sign-in attempts" in r.json()["detail"]
    # Another address with another token is not affected.
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        assert (await http.get("/api/v1/me", headers=auth(tokens["bob"]))).status_code == 200


@pytest.mark.parametrize(
    ("host", "status"), [("127.0.0.1:8000", 200), ("localhost", 200), ("evil.example", 400)]
)
async def test_the_dev_app_answers_only_its_own_hosts(
    settings: Settings, temporal_client: Client, db_engine: Engine, host: str, status: int
) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not reach the dev sign-in."""
    dev = settings.model_copy(update={"dev_login": True, "base_url": "http://127.0.0.1:8000"})
    app = create_app(dev, client=temporal_client, engine=db_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        r = await http.get("/healthz", headers={"Host": host})
        assert r.status_code == status
