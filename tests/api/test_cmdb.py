"""The CMDB over HTTP against the real app and database (SQLite, and PostgreSQL with -m db): the model,
CIs with unique keys and versions, relationships with class rules and cycles, impact analysis,
import (dry run, errors with line and column, idempotent) and export. No Temporal needed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user


@pytest.fixture(scope="module")
def cmdb_tokens(db_engine: Engine) -> dict[str, str]:
    out = {}
    with session_scope(db_engine) as session:
        for name, roles, lang in (
            ("cm", ["configuration_manager"], "en"),
            ("cmzh", ["configuration_manager"], "zh"),
            ("reader", ["agent"], "en"),
        ):
            upsert_user(session, username=name, roles=roles, language=lang)
            out[name] = issue_token(session, username=name, name="cmdb tests")
    return out


@pytest_asyncio.fixture(loop_scope="session")
async def http(database_url: str, db_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url), engine=db_engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        yield client


class Cmdb:
    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http, self.tokens = http, tokens

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def get(self, path: str, user: str = "reader", **kw: Any) -> httpx.Response:
        return await self.http.get(f"/api/v1/cmdb{path}", headers=self.h(user), **kw)

    async def post(self, path: str, body: Any = None, user: str = "cm", **kw: Any) -> httpx.Response:
        headers = {**self.h(user), **kw.pop("headers", {})}
        return await self.http.post(f"/api/v1/cmdb{path}", json=body, headers=headers, **kw)

    async def ci(self, cls: str, name: str, **attributes: Any) -> int:
        r = await self.post("/cis", {"class": cls, "name": name, "attributes": attributes})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def relate(self, type_: str, source: int, target: int) -> httpx.Response:
        return await self.post("/relations", {"type": type_, "source": source, "target": target})


@pytest_asyncio.fixture(loop_scope="session")
async def cmdb(http: httpx.AsyncClient, cmdb_tokens: dict[str, str]) -> Cmdb:
    return Cmdb(http, cmdb_tokens)


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def test_the_default_model_is_in_force_and_readable(cmdb: Cmdb) -> None:
    r = await cmdb.get("/classes")
    assert r.status_code == 200
    names = {c["name"] for c in r.json()["classes"]}
    assert {"business_service", "application", "server", "database", "network_device"} <= names
    assert {r_["name"] for r_ in r.json()["relations"]} >= {"depends_on", "runs_on", "part_of", "connects_to"}


async def test_writing_needs_the_configuration_manager_role(cmdb: Cmdb) -> None:
    r = await cmdb.post(
        "/cis", {"class": "server", "name": "x", "attributes": {"hostname": "x"}}, user="reader"
    )
    assert r.status_code == 403
    assert "Configuration manager" in r.json()["detail"]  # the role by its label


async def test_a_ci_is_checked_kept_unique_and_versioned(cmdb: Cmdb) -> None:
    host = f"web-{tag()}"
    r = await cmdb.post(
        "/cis", {"class": "server", "name": host, "attributes": {"cpu_cores": "many", "colour": "red"}}
    )
    assert r.status_code == 422
    paths = {e["path"]: e["message"] for e in r.json()["errors"]}
    assert set(paths) == {"attributes.cpu_cores", "attributes.colour", "attributes.hostname"}
    assert "whole number" in paths["attributes.cpu_cores"]

    r = await cmdb.post(
        "/cis", {"class": "server", "name": host, "attributes": {"cpu_cores": "many"}}, user="cmzh"
    )
    assert r.status_code == 422 and "应为整数" in str(r.json()["errors"])  # the caller's language

    ci = await cmdb.ci("server", host, hostname=host, cpu_cores=8, ip_address="10.0.0.1")
    r = await cmdb.post("/cis", {"class": "server", "name": "other", "attributes": {"hostname": host}})
    assert r.status_code == 409
    assert r.json()["errors"][0]["path"] == "attributes.hostname"

    r = await cmdb.http.patch(
        f"/api/v1/cmdb/cis/{ci}", json={"attributes": {"cpu_cores": 16}}, headers=cmdb.h("cm")
    )
    assert r.status_code == 200 and r.json()["attributes"]["cpu_cores"] == 16
    r = await cmdb.http.patch(
        f"/api/v1/cmdb/cis/{ci}", json={"attributes": {"os": "x"}, "record": "NOPE-1"}, headers=cmdb.h("cm")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "record"
    history = (await cmdb.get(f"/cis/{ci}/history")).json()["items"]
    assert [v["action"] for v in history] == ["created", "updated"]
    assert history[1]["changes"] == {"cpu_cores": [8, 16]} and history[1]["actor"] == "cm"

    found = (await cmdb.get("/cis", params={"class": "server", "attr": f"hostname={host}"})).json()["items"]
    assert [c["id"] for c in found] == [ci]
    found = (
        await cmdb.get("/cis", params={"class": "server", "attr": "cpu_cores=16", "q": host[-8:]})
    ).json()
    assert [c["id"] for c in found["items"]] == [ci]

    r = await cmdb.post(f"/cis/{ci}/retire", {})
    assert r.status_code == 200 and r.json()["status"] == "retired"
    # The hostname is free again; the retired CI takes no more changes.
    await cmdb.ci("server", host, hostname=host)
    r = await cmdb.post(f"/cis/{ci}/retire", {})
    assert r.status_code == 409


async def test_relationships_follow_the_model_and_refuse_cycles(cmdb: Cmdb) -> None:
    t = tag()
    app = await cmdb.ci("application", f"app-{t}", environment="production")
    srv = await cmdb.ci("server", f"srv-{t}", hostname=f"srv-{t}")
    db = await cmdb.ci("database", f"db-{t}", engine="postgresql")
    assert (await cmdb.relate("runs_on", app, srv)).status_code == 201
    r = await cmdb.relate("runs_on", app, srv)
    assert r.status_code == 409
    r = await cmdb.relate("runs_on", srv, app)  # an application cannot be the target of runs_on
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "target"
    assert (await cmdb.relate("depends_on", app, db)).status_code == 201
    r = await cmdb.relate("depends_on", db, app)  # closes a loop of depends_on
    assert r.status_code == 422 and "cycle" in r.json()["errors"][0]["message"]
    ci = (await cmdb.get(f"/cis/{srv}")).json()
    assert [(x["direction"], x["label"]["en"]) for x in ci["relations"]] == [("incoming", "hosts")]


async def test_impact_walks_both_ways_to_a_depth_and_names_the_services(cmdb: Cmdb) -> None:
    t = tag()
    svc = await cmdb.ci("business_service", f"pay-{t}", owner="ops", criticality="critical")
    app = await cmdb.ci("application", f"payapp-{t}", environment="production")
    db = await cmdb.ci("database", f"paydb-{t}", engine="oracle")
    srv = await cmdb.ci("server", f"payhost-{t}", hostname=f"payhost-{t}")
    sw = await cmdb.ci("network_device", f"sw-{t}", hostname=f"sw-{t}", kind="switch")
    for type_, a, b in (
        ("depends_on", svc, app),
        ("depends_on", app, db),
        ("runs_on", db, srv),
        ("runs_on", app, srv),
        ("connects_to", srv, sw),
    ):
        assert (await cmdb.relate(type_, a, b)).status_code == 201
    r = (await cmdb.get(f"/cis/{sw}/impact", params={"direction": "downstream", "depth": 5})).json()
    depths = {x["id"]: x["depth"] for x in r["reached"]}
    assert depths == {srv: 1, db: 2, app: 2, svc: 3}
    by_id = {x["id"]: x for x in r["reached"]}
    assert by_id[svc]["path"][0] == sw and by_id[svc]["path"][-1] == svc
    assert [s["id"] for s in r["services"]] == [svc]
    r = (await cmdb.get(f"/cis/{sw}/impact", params={"direction": "downstream", "depth": 2})).json()
    assert svc not in {x["id"] for x in r["reached"]} and r["services"] == []
    r = (await cmdb.get(f"/cis/{svc}/impact", params={"direction": "upstream", "depth": 10})).json()
    assert {x["id"] for x in r["reached"]} == {app, db, srv, sw}
    assert r["services"][0]["id"] == svc  # the start is a service


async def test_import_reports_every_error_then_is_idempotent(cmdb: Cmdb) -> None:
    t = tag()
    bad = (
        "class,name,hostname,cpu_cores,environment\n"
        f"server,h1-{t},h1-{t},4,\n"
        f"server,h2-{t},h1-{t},x,\n"
        f"gizmo,g-{t},,,\n"
        f"application,a-{t},,,\n"
    )
    r = await cmdb.post(
        "/import", content=bad, params={"dry_run": "true"}, headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] and report["created"] == 1
    errors = {(e["line"], e["column"]) for e in report["errors"]}
    assert errors == {(3, "4 (cpu_cores)"), (3, "3 (hostname)"), (4, "1 (class)"), (5, "5 (environment)")}
    r = await cmdb.post("/import", content=bad, headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "nothing was written" in r.json()["detail"]
    assert (await cmdb.get("/cis", params={"q": f"h1-{t}"})).json()["items"] == []

    data = {
        "cis": [
            {"class": "server", "name": f"h1-{t}", "attributes": {"hostname": f"h1-{t}", "cpu_cores": 4}},
            {"class": "application", "name": f"a-{t}", "attributes": {"environment": "test"}},
        ],
        "relations": [
            {
                "type": "runs_on",
                "source": {"class": "application", "key": f"a-{t}"},
                "target": {"class": "server", "key": f"h1-{t}"},
            }
        ],
    }
    first = (await cmdb.post("/import", data)).json()
    assert (first["created"], first["relations_created"], first["errors"]) == (2, 1, [])
    again = (await cmdb.post("/import", data)).json()
    assert (again["created"], again["updated"], again["unchanged"], again["relations_created"]) == (
        0,
        0,
        2,
        0,
    )
    data["cis"][0]["attributes"]["cpu_cores"] = 8
    changed = (await cmdb.post("/import", data)).json()
    assert (changed["updated"], changed["unchanged"]) == (1, 1)

    exported = (await cmdb.get("/export", params={"class": "server", "format": "csv"})).text
    assert f"server,h1-{t}," in exported
    full = (await cmdb.get("/export")).json()
    assert {
        "type": "runs_on",
        "source": {"class": "application", "key": f"a-{t}"},
        "target": {"class": "server", "key": f"h1-{t}"},
    } in full["relations"]


async def test_a_model_version_is_validated_and_published(cmdb: Cmdb) -> None:
    bad = "title: {zh: 模型, en: Model}\nclasses:\n  - name: box\n    label: {zh: 盒, en: Box}\n    key: serial\n"
    r = await cmdb.post(
        "/model/validate", content=bad, headers={"Content-Type": "application/yaml"}, user="cmzh"
    )
    assert r.json()["valid"] is False
    assert r.json()["errors"] == [{"path": "classes[0].key", "message": "未知属性 'serial'"}]
    r = await cmdb.post("/model", content=bad, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 422
    versions = (await cmdb.get("/model/versions")).json()
    assert versions[0]["version"] == 0 and versions[0]["status"] == "builtin"


async def test_a_change_names_its_record_and_a_model_is_published(cmdb: Cmdb, db_engine: Engine) -> None:
    from datetime import UTC, datetime

    from cmdb.loader import default_source
    from core.tables import RecordRow

    number = f"CHG{tag()}"
    at = datetime.now(UTC)
    with session_scope(db_engine) as session:
        session.add(
            RecordRow(
                id=f"rec-{number}",
                number=number,
                definition_key="change",
                definition_version=1,
                state="implement",
                state_category="open",
                fields={},
                snapshot={},
                created_at=at,
                updated_at=at,
            )
        )
    host = f"chg-{tag()}"
    ci = await cmdb.ci("server", host, hostname=host)
    r = await cmdb.http.patch(
        f"/api/v1/cmdb/cis/{ci}", json={"attributes": {"os": "linux"}, "record": number}, headers=cmdb.h("cm")
    )
    assert r.status_code == 200, r.text
    last = (await cmdb.get(f"/cis/{ci}/history")).json()["items"][-1]
    assert (last["action"], last["record"], last["changes"]) == ("updated", number, {"os": [None, "linux"]})

    # A new model version: the default plus a class; then one that drops a class in use is refused.
    extra = "\n  - name: printer\n    label: {zh: 打印机, en: Printer}\n"
    richer = default_source().replace("\nrelations:", extra + "relations:", 1)
    r = await cmdb.post("/model", content=richer, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    r = await cmdb.post(f"/model/versions/{version}/publish", user="reader")
    assert r.status_code == 403
    r = await cmdb.post(f"/model/versions/{version}/publish")
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert (await cmdb.get("/model")).json()["version"] == version
    assert "printer" in {c["name"] for c in (await cmdb.get("/classes")).json()["classes"]}
    await cmdb.ci("printer", f"p-{tag()}")

    poorer = (
        "title: {zh: 小模型, en: Small}\nclasses:\n  - name: printer\n    label: {zh: 打印机, en: Printer}\n"
    )
    r = await cmdb.post("/model", content=poorer, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    r = await cmdb.post(f"/model/versions/{r.json()['version']}/publish")
    assert r.status_code == 409 and r.json()["type"] == "urn:itilflow:problem:modelinuse"
    assert "class 'server' has active CIs" in str(r.json()["errors"])
    assert (await cmdb.get("/model")).json()["version"] == version  # nothing changed


async def test_a_walk_through_a_dense_loop_stops_at_its_limit(
    cmdb: Cmdb, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmdb import impact

    t = tag()
    names = [f"mesh{i}-{t}" for i in range(8)]
    data = {
        "cis": [
            {"class": "network_device", "name": n, "attributes": {"hostname": n, "kind": "switch"}}
            for n in names
        ],
        "relations": [  # every device connects to every other: connects_to allows cycles
            {
                "type": "connects_to",
                "source": {"class": "network_device", "key": a},
                "target": {"class": "network_device", "key": b},
            }
            for a in names
            for b in names
            if a != b
        ],
    }
    assert (await cmdb.post("/import", data)).json()["relations_created"] == 56
    first = (
        await cmdb.get("/cis", params={"class": "network_device", "attr": f"hostname={names[0]}"})
    ).json()
    start = first["items"][0]["id"]
    r = (await cmdb.get(f"/cis/{start}/impact", params={"direction": "upstream", "depth": 10})).json()
    assert (r["truncated"], len(r["reached"]), {x["depth"] for x in r["reached"]}) == (False, 7, {1})
    # Each CI once, however many of the 13,699 paths without revisiting one reach it; a cap cuts it.
    monkeypatch.setattr(impact, "MAX_REACHED", 3)
    r = (await cmdb.get(f"/cis/{start}/impact", params={"direction": "upstream", "depth": 10})).json()
    assert r["truncated"] and len(r["reached"]) == 3
