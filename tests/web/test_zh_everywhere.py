"""Every page, for each role, and every refusal a Chinese reader can meet: no catalogue key, no English.

Each GET page under /ui is rendered (the server's HTML: what a reader gets before any script) for a
requester, an agent, a CAB member, a process owner, an administrator and an auditor whose profiles
say Chinese, on real records, definitions, CIs and agreements; every refusal kind the engine has is
provoked through the API as a Chinese reader. `tests/web/chinese_text.py` says what counts as English.
The data the test and the others wrote (titles, names, usernames, keys) is data, not the page's words.

Pages being reworded by the daily-work pages (issue 16's other parts) are listed in `REWORDED_ELSEWHERE`:
their findings are reported as a warning until that work lands; then the list shrinks and this test
holds them too.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import Engine, text
from temporalio.client import Client

from api.app import create_app
from api.auth import issue_token
from api.identity.roles import catalogue
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from core.tables import GroupRow
from tests.api.conftest import MINI, Api
from tests.web.chinese_text import findings
from tests.web.test_agreement_pages import _agreement
from tests.web.test_cmdb_pages import _landscape

BASE = "http://zh.test"
ROLES = {
    "requester": (["requester"], [], "张三"),
    "agent": (["agent"], ["desk"], "李四"),
    "cab": (["approver"], ["cab"], "王五"),
    "owner": (["process_owner"], [], "赵六"),
    "admin": (["admin"], [], "钱七"),
    "auditor": (["auditor"], [], "孙八"),
}
# Not pages: redirects, the sign-in provider's round trip, the editor's schema, downloads.
NOT_PAGES = {
    "/ui",
    "/ui/lang/{lang}",
    "/ui/sign-in/oidc",
    "/ui/sign-in/oidc/callback",
    "/ui/studio/schema.json",
    "/ui/agreements/{key}/report.{kind}",
}
# Pages whose findings only warn: none now — the daily-work pages and the dashboard are held too.
REWORDED_ELSEWHERE: set[str] = set()  # every page is held now (issue 16)

# The test's process as a Chinese author writes it: every field and action labelled in both languages
# (an unlabelled one shows its name, which is the author's word, not the page's).
LABELLED = (
    MINI.replace(
        "{name: priority, type: enum,", "{name: priority, label: {zh: 优先级, en: Priority}, type: enum,"
    )
    .replace(
        "{name: support_level, type: enum,",
        "{name: support_level, label: {zh: 支持级别, en: Support level}, type: enum,",
    )
    .replace("{name: plan, type: text}", "{name: plan, type: text, label: {zh: 实施方案, en: Plan}}")
    .replace(
        "{name: backout_plan, type: text}",
        "{name: backout_plan, type: text, label: {zh: 回退方案, en: Back-out plan}}",
    )
    .replace("{name: builder, type: user}", "{name: builder, type: user, label: {zh: 实施人, en: Builder}}")
    .replace(
        "{name: resolution, type: text}",
        "{name: resolution, type: text, label: {zh: 解决说明, en: Resolution}}",
    )
    .replace("{name: risk, type: int,", "{name: risk, label: {zh: 风险, en: Risk}, type: int,")
    .replace("{trigger: approve,", "{trigger: approve, label: {zh: 批准, en: Approve},")
    .replace("{trigger: reject,", "{trigger: reject, label: {zh: 驳回, en: Reject},")
)
for _trigger, _zh in (
    ("accept", "受理"), ("wait", "等待"), ("resume", "继续处理"), ("submit", "提交审批"),
    ("resolve", "解决"), ("reopen", "重新打开"), ("confirm", "确认"), ("auto_close", "自动关闭"),
):  # fmt: skip
    LABELLED = LABELLED.replace(
        f"  - trigger: {_trigger}\n",
        f"  - trigger: {_trigger}\n    label: {{zh: {_zh}, en: {_trigger}}}\n",
        1,
    )


@dataclass
class World:
    app: Any
    http: httpx.AsyncClient
    users: dict[str, str]  # role -> username
    tokens: dict[str, str]
    values: dict[str, str]  # path parameter -> a real value
    data_words: set[str] = field(default_factory=set)


def _page_routes(app: Any) -> list[str]:
    return sorted(
        {
            r.path
            for r in app.routes
            if getattr(r, "path", "").startswith("/ui") and "GET" in (getattr(r, "methods", None) or set())
        }
        - NOT_PAGES
    )


def _data_words(db_engine: Engine) -> set[str]:
    """Every word the tests' data holds: record titles, CI and agreement names, users, groups, keys."""
    queries = [
        "select title from records",
        "select name from cmdb_cis",
        "select username from users",
        "select display_name from users",
        "select name from groups",
        "select key from definitions",
        "select actor from admin_events",
        "select created_by from cmdb_cis",
        "select name from record_schedules",
        "select assignment_group from records",  # groups other tests route records to
        "select assignee from records",
        # Records other tests planted without their definition in the database: their states are
        # that test's data (a published definition labels its states).
        "select state from records where definition_key not in (select key from definitions)",
        "select title from record_schedules",
    ]
    words: set[str] = set()
    with db_engine.connect() as db:
        for query in queries:
            for (value,) in db.execute(text(query)):
                words.update(re.findall(r"[A-Za-z][A-Za-z0-9_'\-]*", str(value or "")))
        # The groups and services other tests' agreements name (they need not be in the directory).
        for (spec,) in db.execute(text("select spec from sla_agreements")):
            data = json.loads(spec) if isinstance(spec, str) else spec or {}
            for value in [
                data.get("service"),
                *(data.get("requester_groups") or []),
                *(data.get("olas") or {}),
            ]:
                words.update(re.findall(r"[A-Za-z][A-Za-z0-9_'\-]*", str(value or "")))
        # A process's number prefix (MIN…) is its author's code, as its key is.
        for (source,) in db.execute(text("select source from definitions")):
            words.update(re.findall(r"number_prefix: *([A-Z]+)", str(source or "")))
        # What people typed into admin events (a refusal's reason, a group's label, a token's name),
        # and roles no published process declares: data. Flags, languages and known roles are not:
        # the page words those (api/web/audit_words.py).
        with session_scope(db_engine) as session:
            known = set(catalogue(session))
        for (details,) in db.execute(text("select details from admin_events")):
            for key, value in (json.loads(details) if isinstance(details, str) else details or {}).items():
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str) and (
                        key not in ("role", "roles", "language") or item not in known
                    ):
                        words.update(re.findall(r"[A-Za-z][A-Za-z0-9_'\-]*", item))
    return words


@pytest_asyncio.fixture(loop_scope="session")
async def world(
    settings: Settings, temporal_client: Client, db_engine: Engine, tokens: dict[str, str], worker: object
) -> AsyncIterator[World]:
    tag = uuid.uuid4().hex[:6]
    users: dict[str, str] = {}
    with session_scope(db_engine) as session:
        for role, (roles, groups, name) in ROLES.items():
            username = f"zh{role}{tag}"
            upsert_user(
                session, username=username, roles=roles, groups=groups, language="zh", display_name=name
            )
            users[role] = username
            tokens[username] = issue_token(session, username=username)
    app = create_app(settings, client=temporal_client, engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, timeout=60) as http:
        api = Api(http, tokens)
        key = await api.publish_mini(source=LABELLED)
        r = await api.create(users["requester"], key, title="打印机着火")
        assert r.status_code == 201, r.text
        record = r.json()["id"]
        cis = _landscape(db_engine, tag)
        # The agreement's support group as the directory names it (an OLA names the group by its key).
        with session_scope(db_engine) as session:
            group = session.get(GroupRow, "service_desk") or GroupRow(name="service_desk")
            group.label = group.label or "服务台"
            session.add(group)
        agreement = _agreement(db_engine, tag)[0]
        values = {"ref": str(record), "key": key, "ci_id": str(cis["app"])}
        world = World(app, http, users, tokens, values, _data_words(db_engine))
        world.values["agreement"] = agreement
        yield world


async def _signed_in(world: World, role: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.app), base_url=BASE, headers={"Accept-Language": "zh-CN"}
    )
    username = world.users[role]
    r = await client.post("/ui/sign-in", data={"username": username, "token": world.tokens[username]})
    assert r.status_code == 303, r.text
    return client


def _url(world: World, route: str) -> str:
    path = route.replace("{ref}", world.values["ref"]).replace("{ci_id}", world.values["ci_id"])
    if route.startswith("/ui/agreements/"):
        path = path.replace("{key}", world.values["agreement"])
    path = path.replace("{key}", world.values["key"])
    return path + ("?a=1&b=1" if route.endswith("/compare") else "")


async def test_every_page_says_everything_in_chinese_to_every_role(world: World) -> None:
    strict: dict[str, dict[str, list[str]]] = {}
    elsewhere: dict[str, dict[str, list[str]]] = {}
    routes = _page_routes(world.app)
    assert len(routes) > 20
    clients = {role: await _signed_in(world, role) for role in ROLES}
    try:
        for route in routes:
            rendered = 0
            for role, client in clients.items():
                r = await client.get(_url(world, route))
                assert r.status_code < 500, f"{route} as {role}: {r.text}"
                if not r.headers.get("content-type", "").startswith("text/html"):
                    continue
                rendered += 1
                hits = findings(r.text, world.data_words)
                if hits:
                    target = elsewhere if route in REWORDED_ELSEWHERE else strict
                    target.setdefault(route, {})[f"{role} {r.status_code}"] = hits
            assert rendered, f"{route} rendered no page for any role"
    finally:
        for client in clients.values():
            await client.aclose()
    if elsewhere:
        warnings.warn(f"pages still being reworded (issue 16's daily-work pages): {elsewhere}", stacklevel=1)
    assert not strict, f"pages not all in Chinese: {strict}"


async def test_the_sign_in_page_and_an_unknown_page_are_chinese(world: World) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.app), base_url=BASE, headers={"Accept-Language": "zh-CN"}
    ) as client:
        for path in ("/ui/sign-in", "/ui/no-such-page"):
            r = await client.get(path)
            assert r.headers["content-type"].startswith("text/html")
            assert findings(r.text, world.data_words) == [], path
