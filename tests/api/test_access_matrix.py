"""The role × route matrix: every route of the app (API and web pages), called by every role of the
role catalogue and by nobody, is allowed or refused exactly as its declared policy says
(api/access.py). A route that declares no policy fails here.

Real requests on the real app: a real Temporal dev server and worker behind it, SQLite (and
PostgreSQL with ITILFLOW_TEST_DATABASE_URL). Each request is made so that an allowed caller is
stopped right after the access check — an unknown id (404) or a malformed body (422) — and changes
nothing; the check itself runs before either, so a refused caller gets 403 with the rule named in
their own language (web pages: the same words on the error page). Who may see a *record* is the
record visibility rule: a record one may not see answers 404, also tested here.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Mount
from temporalio.client import Client

from api.access import Policy, policy_of, role_refusal, route_methods
from api.app import create_app
from api.auth import Principal, issue_token
from api.identity.roles import catalogue
from api.services.lookup import READ_ALL_ROLES
from api.web.session import COOKIE, cookie_value, start_session
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from tests.api.conftest import MINI

pytestmark = pytest.mark.db
BASE = "http://api.test"
BIG_ID = 2_147_483_000  # a valid 32-bit id nobody has
NO_NAME = "zz_none"


@dataclass(frozen=True)
class Caller:
    username: str
    role: str | None  # None: not signed in
    language: str
    token: str = ""


@pytest_asyncio.fixture(loop_scope="session")
async def matrix_app(
    settings: Settings, temporal_client: Client, db_engine: Engine, worker: object
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, client=temporal_client, engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield app, http


def _callers(engine: Engine) -> list[Caller]:
    """One user per role of the catalogue (that role alone), half of them reading Chinese."""
    suffix = uuid.uuid4().hex[:6]
    out = [Caller(username="", role=None, language="en")]
    with session_scope(engine) as session:
        roles = list(catalogue(session))
        for i, role in enumerate(roles):
            name, lang = f"acl_{suffix}_{role}"[:64], "zh" if i % 2 else "en"
            upsert_user(session, username=name, roles=[role], groups=[], language=lang)
            out.append(Caller(name, role, lang, issue_token(session, username=name, name="matrix")))
    return out


def _path(route: BaseRoute) -> str:
    if isinstance(route, Mount):
        return f"{route.path}/app.css"
    if not isinstance(route, APIRoute):
        return str(getattr(route, "path", ""))
    path = route.path
    for param in route.dependant.path_params:  # a valid value nobody has: an allowed caller gets 404
        value = BIG_ID if param.type_ is int else NO_NAME
        path = path.replace("{" + param.name + "}", str(value))
    return path


def _web_session(app: FastAPI, engine: Engine, caller: Caller) -> dict[str, str]:
    """Headers of a fresh web session (a sign-out must not end the next request's)."""
    with session_scope(engine) as session:
        token_id = start_session(session, username=caller.username)
    signer = app.state.web.signer
    return {
        "Cookie": f"{COOKIE}={cookie_value(signer, username=caller.username, token_id=token_id)}",
        "X-CSRF-Token": signer.csrf(token_id),
        "Origin": BASE,
    }


async def _call(
    app: FastAPI, http: httpx.AsyncClient, engine: Engine, route: BaseRoute, method: str, caller: Caller
) -> httpx.Response:
    path = _path(route)
    web = not path.startswith("/api/")
    headers: dict[str, str] = {}
    if caller.role is not None:
        headers = _web_session(app, engine, caller) if web else {"Authorization": f"Bearer {caller.token}"}
    if method in ("GET", "DELETE"):
        return await http.request(method, path, headers=headers)
    if web:
        # A language equal to the caller's (the profile form), passwords that differ (the password
        # form answers 422): nothing a form changes is changed.
        form = {"language": caller.language, "new_password": "x1", "confirm_password": "x2"}
        return await http.request(method, path, headers={**headers, "Origin": BASE}, data=form)
    return await http.request(method, path, headers=headers, json={})


def _verdict(response: httpx.Response, policy: Policy, caller: Caller, web: bool) -> str | None:
    """None when the answer is what the policy says, else what is wrong."""
    status = response.status_code
    if status >= 500:
        return f"{status} (server error)"
    signed_in = caller.role is not None
    roles = [caller.role] if caller.role is not None else None
    # Where a page sends a caller without a session (a sign-out, which also goes there, ends one).
    sent_to_sign_in = (
        status == 303
        and response.headers.get("location", "").startswith("/ui/sign-in")
        and COOKIE not in response.headers.get("set-cookie", "")
    )
    if policy.kind == "public":
        # A sign-in form may answer 401 (wrong password): that is its answer, not a refusal to call it.
        return f"403 on a public route: {response.text[:200]}" if status == 403 else None
    if policy.allows(roles):
        if status == 401 or sent_to_sign_in:
            return f"{status}: refused an allowed caller"
        if status == 403 and "role" in response.text.lower():
            return f"403: refused an allowed caller: {response.text[:200]}"
        return None
    if not signed_in:
        if web:
            return None if sent_to_sign_in else f"{status}: not sent to sign in"
        return None if status == 401 else f"{status}: expected 401"
    if status != 403:
        return f"{status}: expected 403"
    principal = Principal(username=caller.username, roles=roles or [], language=caller.language)
    refusal = role_refusal(principal, policy.roles)
    detail = refusal.detail
    if web:
        return None if html.escape(detail) in response.text else "403 without the rule in the page"
    body = response.json()
    if body.get("detail") != detail or body.get("type") != refusal.body()["type"]:
        return f"403 with {body}, expected {detail!r}"
    return None


async def _publish_mini(http: httpx.AsyncClient, tokens: dict[str, str]) -> str:
    key = f"acl_{uuid.uuid4().hex[:8]}"
    owner = {"Authorization": f"Bearer {tokens['owner']}"}
    source = MINI.replace("key: mini\n", f"key: {key}\n", 1)
    r = await http.post(
        "/api/v1/definitions", content=source, headers={**owner, "Content-Type": "application/yaml"}
    )
    assert r.status_code == 201, r.text
    r = await http.post(f"/api/v1/definitions/{key}/versions/{r.json()['version']}/publish", headers=owner)
    assert r.status_code == 200, r.text
    return key


async def test_every_route_every_role(
    matrix_app: tuple[FastAPI, httpx.AsyncClient], db_engine: Engine, tokens: dict[str, str]
) -> None:
    app, http = matrix_app
    await _publish_mini(http, tokens)  # so that the catalogue has a process's roles too
    callers = _callers(db_engine)
    assert "implementer" in {c.role for c in callers}  # mini's own role, besides the built-in ones
    undeclared: list[str] = []
    wrong: list[str] = []
    checked = 0
    for route in app.routes:
        policy = policy_of(route)
        methods = route_methods(route)
        if policy is None:
            undeclared += [f"{m} {getattr(route, 'path', route)}" for m in methods]
            continue
        for method in methods:
            for caller in callers:
                response = await _call(app, http, db_engine, route, method, caller)
                web = not _path(route).startswith("/api/")
                problem = _verdict(response, policy, caller, web)
                checked += 1
                if problem is not None:
                    who = caller.role or "nobody"
                    wrong.append(f"{method} {getattr(route, 'path', '')} as {who}: {problem}")
    assert not undeclared, f"routes without an access policy (api/access.py): {undeclared}"
    assert not wrong, "\n".join(wrong)
    assert checked > 70 * len(callers)


async def test_a_record_one_may_not_see_answers_404(
    matrix_app: tuple[FastAPI, httpx.AsyncClient], db_engine: Engine, tokens: dict[str, str]
) -> None:
    """The visibility rule under the route policy: staff and auditors read a requester's record,
    every other role gets 404 (API and page alike) with nothing of the record named."""
    app, http = matrix_app
    key = await _publish_mini(http, tokens)
    body = {"definition": key, "title": "Printer on fire", "fields": {"impact": "2", "urgency": "2"}}
    r = await http.post(
        "/api/v1/processes", json=body, headers={"Authorization": f"Bearer {tokens['alice']}"}
    )
    assert r.status_code == 201, r.text
    record, number = r.json()["id"], r.json()["number"]
    wrong = []
    for caller in _callers(db_engine)[1:]:
        api = {"Authorization": f"Bearer {caller.token}"}
        sees = caller.role in READ_ALL_ROLES
        for path, headers in (
            (f"/api/v1/processes/{record}", api),
            (f"/api/v1/processes/{record}/history", api),
            (f"/ui/records/{record}", _web_session(app, db_engine, caller)),
        ):
            r = await http.get(path, headers=headers)
            expected = 200 if sees else 404
            if r.status_code != expected or (not sees and number in r.text):
                wrong.append(f"{path} as {caller.role}: {r.status_code}")
    assert not wrong, wrong
