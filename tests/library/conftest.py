"""The shipped library end to end: the real API app, a real worker on the test's task queue, Temporal.

Every test publishes what it drives through the API (POST /api/v1/definitions, then publish), as the
process owner:
- the shipped file unchanged, under its own key (incident, problem, change, ...), once per session:
  linked records (`create_record: {definition: problem}`) start the newest published version of that
  key, so the keys the library names must exist;
- for tests that wait on timers (SLA escalation, the 90-day review, access expiry) a copy under a fresh
  key made by `shortened`: only durations change (SLA targets, `after` of timed transitions) and every
  calendar counts 7x24 in UTC; the states, transitions, permissions, approvals and thresholds under test
  are the shipped ones.

The directory below gives each library role and group a person. Users are created active; tokens are
issued on first use, so a test may act as whoever the engine makes eligible (e.g. every CAB member).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from core.tables import NotificationRow, UserRow
from tests.api.conftest import Api

LIBRARY = Path(__file__).resolve().parents[2] / "definitions" / "library"

# username, roles, groups: one person per role and group the shipped definitions name. The shared
# directory (tests/conftest.py) adds alice (requester), carol/dave/erin (cab), boss (managers).
LIBRARY_USERS: list[tuple[str, list[str], list[str]]] = [
    ("owner", ["process_owner"], []),
    # incident
    ("sam", ["agent", "service_desk"], ["service_desk"]),
    ("lee", ["agent"], ["l2_support"]),
    ("lin", ["agent"], ["l3_support"]),
    ("mim", ["agent", "major_incident_manager"], ["major_incident_team"]),
    # problem
    ("pam", ["agent", "problem_manager"], ["problem_managers"]),
    # change (the CAB is the shared `cab`; see test_change.py for the members who also request/implement)
    ("cm", ["agent", "change_manager"], ["change_management"]),
    ("eve", ["approver"], ["ecab"]),
    # release: rob builds and also sits in QA, so only separation of duties keeps him from signing off
    ("rita", ["agent", "release_manager"], ["release_managers"]),
    ("rob", ["agent"], ["release_team", "qa"]),
    ("quinn", ["agent"], ["qa"]),
    # handover
    ("dan", ["agent"], ["delivery_pm"]),
    ("olga", ["agent"], ["operations_receiving"]),
    # service level
    ("sly", ["agent", "service_level_manager", "sales_manager"], []),
    ("cust", ["requester"], []),
    ("pm", ["agent", "project_manager"], []),
    # data access
    ("owen", ["approver"], []),
    ("sec", ["agent"], ["security"]),
]


def ensure_users(engine: Engine, users: list[tuple[str, list[str], list[str]]]) -> None:
    """Create (or re-activate, on a reused database) the given users with their roles and groups."""
    with session_scope(engine) as session:
        for name, roles, groups in users:
            user = upsert_user(
                session,
                username=name,
                roles=roles,
                groups=groups,
                language="en",
                email=f"{name}@example.test",
            )
            user.active = True
            session.add(user)


def set_active(engine: Engine, names: list[str], active: bool) -> None:
    with session_scope(engine) as session:
        for name in names:
            row = session.get(UserRow, name)
            if row is not None:
                row.active = active
                session.add(row)


class LazyTokens(dict[str, str]):
    """username -> API token, issued the first time a test acts as that user."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def __missing__(self, username: str) -> str:
        with session_scope(self.engine) as session:
            token = issue_token(session, username=username, name="library tests")
        self[username] = token
        return token


def shortened(name: str, key: str, *, targets: dict[str, str] | None = None, after: str | None = None) -> str:
    """The shipped `name` under `key` with only its durations shortened (see the module docstring).

    `targets`: SLA name -> the target for every priority; `after`: every timed transition's delay.
    """
    data = yaml.safe_load((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8"))
    data["key"] = key
    for cal_name, cal in (data.get("calendars") or {}).items():
        data["calendars"][cal_name] = {"always": True, "timezone": "UTC", "label": cal.get("label")}
    for sla in data.get("slas") or []:
        if targets and sla["name"] in targets:
            sla["targets"] = dict.fromkeys(sla["targets"], targets[sla["name"]])
    for transition in data.get("transitions") or []:
        if after and "after" in transition:
            transition["after"] = after
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


class LibraryApi(Api):
    """The API as the library's users, with the few steps every library test repeats."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str], published: set[str]) -> None:
        super().__init__(http, tokens)
        self.published = published

    # -- definitions ---------------------------------------------------------------------------------
    async def publish_source(self, source: str) -> str:
        r = await self.http.post(
            "/api/v1/definitions",
            content=source.encode("utf-8"),
            headers={**self.headers("owner"), "Content-Type": "application/yaml"},
        )
        assert r.status_code == 201, r.text
        key, version = r.json()["key"], r.json()["version"]
        r = await self.post("owner", f"/api/v1/definitions/{key}/versions/{version}/publish")
        assert r.status_code == 200 and r.json()["status"] == "published", r.text
        return str(key)

    async def ensure(self, *names: str) -> None:
        """Publish the shipped files, unchanged and under their own keys, once per session."""
        for name in names:
            if name not in self.published:
                await self.publish_source((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8"))
                self.published.add(name)

    async def publish_shortened(self, name: str, **durations: Any) -> str:
        return await self.publish_source(shortened(name, f"{name}_{uuid.uuid4().hex[:8]}", **durations))

    # -- records -------------------------------------------------------------------------------------
    async def start(self, user: str, definition: str, title: str, **fields: Any) -> httpx.Response:
        body = {"definition": definition, "title": title, "fields": fields}
        return await self.post(user, "/api/v1/processes", body)

    async def started(self, user: str, definition: str, title: str, **fields: Any) -> dict[str, Any]:
        r = await self.start(user, definition, title, **fields)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def fire(
        self, user: str, ref: str, trigger: str, comment: str | None = None, **fields: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"trigger": trigger, "fields": fields}
        if comment is not None:
            body["comment"] = comment
        return await self.post(user, f"/api/v1/processes/{ref}/transitions", body)

    async def fired(
        self, user: str, ref: str, trigger: str, comment: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        r = await self.fire(user, ref, trigger, comment, **fields)
        assert r.status_code == 200, f"{user} {trigger}: {r.status_code} {r.text}"
        return dict(r.json())

    async def set_fields(self, user: str, ref: str, **fields: Any) -> dict[str, Any]:
        r = await self.patch(user, f"/api/v1/processes/{ref}", {"fields": fields})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def record(self, user: str, ref: str) -> dict[str, Any]:
        r = await self.get(user, f"/api/v1/processes/{ref}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def history(self, user: str, ref: str) -> list[dict[str, Any]]:
        r = await self.get(user, f"/api/v1/processes/{ref}/history")
        assert r.status_code == 200, r.text
        return list(r.json())

    async def wait_for(
        self, user: str, ref: str, what: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """Poll the record until `check` holds: timers fire in the worker, on Temporal's clock."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            rec = await self.record(user, ref)
            if check(rec):
                return rec
            if loop.time() > end:
                raise AssertionError(f"{ref} never reached {what}: {rec['state']} {rec['fields']}")
            await asyncio.sleep(0.1)

    # -- approvals -----------------------------------------------------------------------------------
    async def pending_task(self, user: str, ref: str, step: str) -> dict[str, Any]:
        rec = await self.record(user, ref)
        tasks = [t for t in rec["approvals"] if t["step"] == step and t["state"] == "pending"]
        assert tasks, f"no pending {step} on {ref}: {[(t['step'], t['state']) for t in rec['approvals']]}"
        return dict(tasks[-1])

    async def decide(
        self, user: str, task_id: str, decision: str = "approve", comment: str | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"decision": decision}
        if comment is not None:
            body["comment"] = comment
        return await self.post(user, f"/api/v1/approvals/{task_id}/decision", body)

    async def decided(
        self, user: str, task_id: str, decision: str = "approve", comment: str | None = None
    ) -> dict[str, Any]:
        if decision == "reject" and comment is None:
            comment = "Not acceptable as planned"  # a rejection says why
        r = await self.decide(user, task_id, decision, comment)
        assert r.status_code == 200, f"{user} {decision}: {r.status_code} {r.text}"
        return dict(r.json())

    async def inbox(self, user: str) -> list[dict[str, Any]]:
        r = await self.get(user, "/api/v1/approvals", params={"status": "pending"})
        assert r.status_code == 200, r.text
        return list(r.json())


# --- reading the audit trail ---------------------------------------------------------------------------


def moves(history: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(trigger, from, to, actor) of every transition, in order."""
    return [
        (h["details"]["trigger"], h["from_state"], h["to_state"], h["actor"])
        for h in history
        if h["action"] == "transition"
    ]


def actions(history: list[dict[str, Any]]) -> list[str]:
    return [h["action"] for h in history]


def sla(rec: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(s for s in rec["slas"] if s["name"] == name))


def triggers(rec: dict[str, Any]) -> set[str]:
    return {t["trigger"] for t in rec["available_transitions"]}


def error_paths(response: httpx.Response) -> set[str]:
    return {e["path"] for e in response.json().get("errors", [])}


async def notifications(
    engine: Engine, record_id: str, wanted: set[tuple[str, str]], timeout: float = 20.0
) -> set[tuple[str, str]]:
    """(template, recipient) of the record's notifications, once every wanted pair is there.

    Notifications are started by the workflow and not awaited by the API call, hence the wait.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        with Session(engine) as session:
            rows = session.exec(select(NotificationRow).where(NotificationRow.record_id == record_id)).all()
            sent = {(r.template, r.recipient) for r in rows}
        if wanted <= sent or loop.time() > end:
            return sent
        await asyncio.sleep(0.2)


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def library_directory(db_engine: Engine) -> None:
    ensure_users(db_engine, LIBRARY_USERS)


@pytest.fixture(scope="session")
def library_tokens(db_engine: Engine, library_directory: None) -> LazyTokens:
    return LazyTokens(db_engine)


@pytest.fixture(scope="session")
def published() -> Iterator[set[str]]:
    """Shipped keys already published in this session."""
    yield set()


@pytest.fixture
def settings(database_url: str, task_queue: str, temporal_address: str) -> Settings:
    return Settings(database_url=database_url, task_queue=task_queue, temporal_address=temporal_address)


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    settings: Settings,
    temporal_client: Client,
    db_engine: Engine,
    library_tokens: LazyTokens,
    published: set[str],
    worker: object,
) -> AsyncIterator[LibraryApi]:
    app = create_app(settings, client=temporal_client, engine=db_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield LibraryApi(http, library_tokens, published)
