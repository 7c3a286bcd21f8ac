"""Four-eyes publishing (`publish_requires_second_owner`): a process owner asks for a draft to be
published, another one — neither its author nor the one who asked — approves, and only then is it
published. Through the API and the web studio, on the real app (SQLite and PostgreSQL); refusals name
the rule in the caller's language; each step lands in the admin audit trail; the migration goes down
and up again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Engine, inspect
from temporalio.client import Client

from api.app import create_app
from api.auth import issue_token
from api.web.session import COOKIE, cookie_value, start_session
from core.db import alembic_config, make_engine, migrate, session_scope
from core.settings import Settings
from core.store import upsert_user
from tests.api.conftest import MINI

pytestmark = pytest.mark.db
BASE = "http://api.test"
RULE_EN = "four-eyes publishing"
RULE_ZH = "四眼发布"


class Owners:
    """Three process owners (the third reads Chinese) and an agent, with tokens."""

    def __init__(self, engine: Engine) -> None:
        suffix = uuid.uuid4().hex[:6]
        self.names = {n: f"{n}_{suffix}" for n in ("ann", "ben", "chen", "dee")}
        self.tokens: dict[str, str] = {}
        with session_scope(engine) as session:
            for short, name in self.names.items():
                roles = ["agent"] if short == "dee" else ["process_owner"]
                upsert_user(
                    session, username=name, roles=roles, groups=[], language="zh" if short == "chen" else "en"
                )
                self.tokens[short] = issue_token(session, username=name, name="four-eyes")

    def auth(self, short: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[short]}"}


@pytest_asyncio.fixture(loop_scope="session")
async def four_eyes(
    database_url: str, temporal_client: Client, db_engine: Engine
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Owners]]:
    settings = Settings(database_url=database_url, publish_requires_second_owner=True)
    app = create_app(settings, client=temporal_client, engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield app, http, Owners(db_engine)


async def _draft(http: httpx.AsyncClient, owners: Owners, author: str = "ann") -> str:
    key = f"fe_{uuid.uuid4().hex[:8]}"
    r = await http.post(
        "/api/v1/definitions",
        content=MINI.replace("key: mini\n", f"key: {key}\n", 1),
        headers={**owners.auth(author), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    return key


async def test_a_second_owner_approves_and_only_then_it_is_published(
    four_eyes: tuple[FastAPI, httpx.AsyncClient, Owners], tokens: dict[str, str]
) -> None:
    _app, http, owners = four_eyes
    key = await _draft(http, owners)
    v1 = f"/api/v1/definitions/{key}/versions/1"

    r = await http.post(f"{v1}/publish", headers=owners.auth("ann"))  # publishing directly
    assert r.status_code == 403 and r.json()["detail"].startswith(RULE_EN), r.text
    assert r.json()["type"] == "urn:itilflow:problem:foureyespublishing"
    r = await http.post(f"{v1}/publish", headers=owners.auth("chen"))  # in the caller's language
    assert r.status_code == 403 and r.json()["detail"].startswith(RULE_ZH), r.text
    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("ben"))
    assert r.status_code == 409 and r.json()["type"].endswith("notrequested"), r.text

    r = await http.post(f"{v1}/publication-request", headers=owners.auth("ann"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending" and r.json()["requested_by"] == owners.names["ann"]
    r = await http.post(f"{v1}/publication-request", headers=owners.auth("ben"))
    assert r.status_code == 409 and owners.names["ann"] in r.json()["detail"]
    versions = (await http.get(f"/api/v1/definitions/{key}/versions", headers=owners.auth("ben"))).json()
    assert versions[0]["status"] == "draft"
    assert versions[0]["publication_requested_by"] == owners.names["ann"]

    # The one who asked (also the author here) may not approve; an agent may not either.
    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("ann"))
    assert r.status_code == 403 and "who asked for publication cannot approve" in r.json()["detail"]
    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("dee"))
    assert r.status_code == 403 and r.json()["type"] == "urn:itilflow:problem:rolerequired"
    r = await http.post(
        "/api/v1/processes",
        json={"definition": key, "title": "x", "fields": {"impact": "1", "urgency": "1"}},
        headers={"Authorization": f"Bearer {tokens['alice']}"},
    )
    assert r.status_code in (404, 409, 422), r.text  # nothing is published yet

    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("ben"))
    assert r.status_code == 200 and r.json()["status"] == "published", r.text
    versions = (await http.get(f"/api/v1/definitions/{key}/versions", headers=owners.auth("ben"))).json()
    assert versions[0]["published_by"] == owners.names["ben"]
    assert [e["action"] for e in versions[0]["events"]] == [
        "created",
        "publication_requested",
        "publication_approved",
        "published",
    ]
    root = {"Authorization": f"Bearer {tokens['root']}"}
    events = (await http.get("/api/v1/admin/audit", params={"target": f"{key} v1"}, headers=root)).json()
    assert [(e["action"], e["actor"]) for e in reversed(events)] == [
        ("definition.publication_requested", owners.names["ann"]),
        ("definition.publication_approved", owners.names["ben"]),
        ("definition.published", owners.names["ben"]),
    ]
    assert events[1]["details"]["requested_by"] == owners.names["ann"]


async def test_the_author_may_not_approve_what_another_asked_for(
    four_eyes: tuple[FastAPI, httpx.AsyncClient, Owners],
) -> None:
    _app, http, owners = four_eyes
    key = await _draft(http, owners, author="chen")
    v1 = f"/api/v1/definitions/{key}/versions/1"
    assert (await http.post(f"{v1}/publication-request", headers=owners.auth("ann"))).status_code == 201
    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("chen"))
    assert (
        r.status_code == 403
        and r.json()["detail"] == "四眼发布：草稿的作者不能批准其发布，须由另一位流程负责人批准"
    )
    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("ben"))
    assert r.status_code == 200, r.text


async def test_a_refused_request_leaves_a_draft_that_may_be_asked_for_again(
    four_eyes: tuple[FastAPI, httpx.AsyncClient, Owners], tokens: dict[str, str]
) -> None:
    _app, http, owners = four_eyes
    key = await _draft(http, owners)
    v1 = f"/api/v1/definitions/{key}/versions/1"
    assert (await http.post(f"{v1}/publication-request", headers=owners.auth("ann"))).status_code == 201
    r = await http.post(
        f"{v1}/publication-request/refuse", json={"reason": "SLA too short"}, headers=owners.auth("ben")
    )
    assert r.status_code == 200 and r.json()["status"] == "refused", r.text
    assert r.json()["refused_by"] == owners.names["ben"] and r.json()["requested_by"] == owners.names["ann"]
    r = await http.post(f"{v1}/publication-request/approve", headers=owners.auth("ben"))
    assert r.status_code == 409  # nothing waits any more
    r = await http.post(
        f"{v1}/publication-request/refuse", json={"reason": "x" * 1001}, headers=owners.auth("ben")
    )
    assert r.status_code == 422
    root = {"Authorization": f"Bearer {tokens['root']}"}
    events = (await http.get("/api/v1/admin/audit", params={"target": f"{key} v1"}, headers=root)).json()
    assert events[0]["action"] == "definition.publication_refused"
    assert events[0]["details"] == {"requested_by": owners.names["ann"], "reason": "SLA too short"}
    assert (await http.post(f"{v1}/publication-request", headers=owners.auth("ann"))).status_code == 201


async def test_off_by_default_then_requests_are_refused_and_publishing_is_direct(
    database_url: str, temporal_client: Client, db_engine: Engine
) -> None:
    app = create_app(Settings(database_url=database_url), client=temporal_client, engine=db_engine)
    owners = Owners(db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        key = await _draft(http, owners)
        v1 = f"/api/v1/definitions/{key}/versions/1"
        r = await http.post(f"{v1}/publication-request", headers=owners.auth("ann"))
        assert r.status_code == 409 and "four-eyes publishing is off" in r.json()["detail"]
        assert (await http.post(f"{v1}/publish", headers=owners.auth("ann"))).status_code == 200


def _session_headers(app: FastAPI, engine: Engine, username: str) -> dict[str, str]:
    with session_scope(engine) as session:
        token_id = start_session(session, username=username)
    signer = app.state.web.signer
    return {
        "Cookie": f"{COOKIE}={cookie_value(signer, username=username, token_id=token_id)}",
        "X-CSRF-Token": signer.csrf(token_id),
        "Origin": BASE,
    }


async def test_the_studio_shows_the_pending_state_and_a_second_owner_approves(
    four_eyes: tuple[FastAPI, httpx.AsyncClient, Owners], db_engine: Engine
) -> None:
    app, http, owners = four_eyes
    key = await _draft(http, owners)
    ann = _session_headers(app, db_engine, owners.names["ann"])
    ben = _session_headers(app, db_engine, owners.names["ben"])
    page = await http.get(f"/ui/studio/{key}", headers=ann)
    assert "Ask for publication" in page.text and f"/ui/studio/{key}/versions/1/publish" not in page.text

    yes = {"confirmed": "yes"}  # what the page's confirmation posts
    r = await http.post(f"/ui/studio/{key}/versions/1/publish", headers=ann, data=yes)
    assert r.status_code == 403 and RULE_EN in r.text
    # Unconfirmed (no script on the page): the server asks first, and says a second owner approves.
    r = await http.post(f"/ui/studio/{key}/versions/1/request", headers=ann)
    assert r.status_code == 200 and "a second process owner must approve it" in r.text
    assert 'name="confirmed" value="yes"' in r.text
    r = await http.post(f"/ui/studio/{key}/versions/1/request", headers=ann, data=yes)
    assert r.status_code == 303
    page = await http.get(r.headers["location"], headers=ann)
    assert 'data-publication="pending"' in page.text and "awaiting approval" in page.text
    assert "Approve and publish" not in page.text  # not for the one who asked
    page = await http.get(f"/ui/studio/{key}", headers=ben)
    assert "Approve and publish" in page.text
    r = await http.post(f"/ui/studio/{key}/versions/1/approve", headers=ann, data=yes)
    assert r.status_code == 403 and "who asked for publication cannot approve" in r.text
    r = await http.post(f"/ui/studio/{key}/versions/1/approve", headers=ben, data=yes)
    assert r.status_code == 303 and r.headers["location"] == f"/ui/studio?done=published:{key}:1"


def test_migration_0005_publication_goes_down_and_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("definitions")}
        assert {"publication_requested_by", "publication_requested_at"} <= columns
        command.downgrade(alembic_config(url), "0004")
        engine.dispose()
        assert "publication_requested_by" not in {
            c["name"] for c in inspect(engine).get_columns("definitions")
        }
        migrate(url)
        engine.dispose()
        assert "publication_requested_at" in {c["name"] for c in inspect(engine).get_columns("definitions")}
    finally:
        engine.dispose()
