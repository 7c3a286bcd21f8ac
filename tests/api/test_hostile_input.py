"""Hostile and oversized input against the real app and a real Temporal server (issue 15).

Each test reproduces an attack that once stalled, crashed or misled the service and asserts the
refusal: a clear 4xx that names the rule, and nothing changed.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from tests.api.conftest import MINI, Api, auth


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


async def test_a_crafted_cursor_is_a_422_not_a_500(api: Api) -> None:
    for at in ("2026-01-01T00:00:00", "not a date"):
        cursor = base64.urlsafe_b64encode(json.dumps([at, "x"]).encode()).decode()
        r = await api.get("bob", "/api/v1/processes", params={"cursor": cursor})
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.cursor"


async def test_publishing_a_loop_of_processes_creating_each_other_is_refused(api: Api) -> None:
    """A's timed transition creates a B, B's creates an A: each record would start the next, forever."""
    a, b = f"loop_a_{uuid.uuid4().hex[:6]}", f"loop_b_{uuid.uuid4().hex[:6]}"

    def creating(other: str) -> str:
        return MINI.replace(
            "    after: PT3S\n",
            f"    after: PT3S\n    effects:\n      - create_record: {{definition: {other}, title: next}}\n",
            1,
        )

    await api.publish_mini(key=a, source=creating(b))  # B is not published yet: no loop so far
    text = creating(a).replace("key: mini\n", f"key: {b}\n", 1)
    r = await api.http.post(
        "/api/v1/definitions",
        content=text,
        headers={**api.headers("owner"), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    r = await api.post("owner", f"/api/v1/definitions/{b}/versions/{r.json()['version']}/publish")
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("creationloop") and f"{a} → {b} → {a}" in r.json()["detail"]


async def test_who_sees_which_record(api: Api, db_engine: Engine) -> None:
    """Staff see everything; an auditor reads but never acts; an integrator or an approver sees only
    the records they take part in, and outsiders get 404 for records and their approvals alike."""
    with session_scope(db_engine) as session:
        upsert_user(session, username="audrey", roles=["auditor"], groups=[], language="en")
        api.tokens["audrey"] = issue_token(session, username="audrey", name="tests")
    key = await api.publish_mini()
    rec = (await api.create("alice", key)).json()
    url = f"/api/v1/processes/{rec['id']}"
    assert (await api.get("bob", url)).status_code == 200  # an agent
    assert (await api.get("audrey", url)).status_code == 200  # an auditor reads
    r = await api.post("audrey", f"{url}/comments", {"body": "auditors do not act"})
    assert r.status_code == 404
    for outsider in ("bot", "carol"):  # an integrator, an approver: not part of this record
        assert (await api.get(outsider, url)).status_code == 404
    # At the CAB, carol decides on it, and so sees it; erin (not in the quorum's group) does not.
    r = await api.post("bob", f"{url}/transitions", {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert r.status_code == 200, r.text
    body = {"trigger": "submit", "fields": {"plan": "p", "backout_plan": "b", "risk": 2}}
    r = await api.post("bob", f"{url}/transitions", body)
    assert r.status_code == 200, r.text
    assert (await api.get("carol", url)).status_code == 200
    listed = (await api.get("bot", "/api/v1/processes", params={"definition": key})).json()
    assert listed["items"] == []
