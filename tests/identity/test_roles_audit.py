"""The role catalogue (itilflow's own roles and every role a published process names), granting and
revoking through the API, the CLI and the admin page, and the append-only admin audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import Engine, text

from cli import main
from core.db import session_scope
from core.settings import Settings, get_settings
from core.store import upsert_user, utcnow
from core.tables import AdminEventRow
from tests.api.conftest import MINI, auth, tokens  # noqa: F401 - the admin's token
from tests.identity.conftest import csrf_of

BUILTIN = ["admin", "process_owner", "agent", "approver", "integrator", "requester", "auditor"]


async def _publish(http: Any, token: str, role: str) -> str:
    key = f"roles_{uuid.uuid4().hex[:8]}"
    source = MINI.replace("key: mini\n", f"key: {key}\n", 1).replace("implementer:", f"{role}:", 1)
    headers = {**auth(token), "Content-Type": "application/yaml"}
    r = await http.post("/api/v1/definitions", content=source, headers=headers)
    assert r.status_code == 201, r.text
    r = await http.post(
        f"/api/v1/definitions/{key}/versions/{r.json()['version']}/publish", headers=auth(token)
    )
    assert r.status_code == 200, r.text
    return key


def _user(engine: Engine, roles: list[str] | None = None) -> str:
    name = f"r{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as session:
        upsert_user(session, username=name, roles=roles or ["requester"], language="en")
    return name


async def test_roles_come_from_itilflow_and_from_published_processes(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    role = f"cab_chair_{uuid.uuid4().hex[:6]}"
    name = _user(db_engine)
    async with web(make_settings()) as http:
        admin = auth(tokens["root"])
        r = await http.put(f"/api/v1/admin/users/{name}/roles/{role}", headers=admin)
        assert r.status_code == 422 and r.json()["title"] == "Unprocessable Entity"
        assert f"unknown role '{role}'" in r.json()["detail"] and "auditor" in r.json()["detail"]
        assert r.json()["errors"][0]["path"] == "path.role[0]"

        key = await _publish(http, tokens["owner"], role)
        roles = {r["name"]: r for r in (await http.get("/api/v1/admin/roles", headers=admin)).json()}
        assert list(roles)[: len(BUILTIN)] == BUILTIN
        assert roles["auditor"]["builtin"] and roles["auditor"]["label"]["zh"].startswith("审计员")
        assert roles[role] == {
            "name": role,
            "label": {"zh": "实施人", "en": "Implementer"},
            "builtin": False,
            "sources": [f"{key} v1"],
        }
        assert f"{key} v1" in roles["agent"]["sources"]  # named by the process's transitions

        r = await http.put(f"/api/v1/admin/users/{name}/roles/{role}", headers=admin)
        assert r.status_code == 200 and r.json()["roles"] == ["requester", role]
        r = await http.put(f"/api/v1/admin/users/{name}/roles/{role}", headers=admin)  # already has it
        assert r.status_code == 200 and r.json()["roles"] == ["requester", role]
        r = await http.delete(f"/api/v1/admin/users/{name}/roles/requester", headers=admin)
        assert r.status_code == 200 and r.json()["roles"] == [role]
        r = await http.delete(f"/api/v1/admin/users/{name}/roles/requester", headers=admin)
        assert r.status_code == 404

        # Roles in POST and PATCH /admin/users are checked against the same catalogue.
        other = f"r{uuid.uuid4().hex[:8]}"
        body = {"username": other, "roles": ["auditor", role]}
        r = await http.post("/api/v1/admin/users", json=body, headers=admin)
        assert r.status_code == 201 and r.json()["roles"] == ["auditor", role]
        r = await http.patch(
            f"/api/v1/admin/users/{other}", json={"roles": ["agent", "wizard"]}, headers=admin
        )
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.roles[1]"
        r = await http.put(f"/api/v1/admin/users/{name}/roles/x", headers=auth(tokens["bob"]))
        assert r.status_code == 403


async def test_every_admin_action_lands_in_the_audit_trail_without_secrets(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    start = utcnow() - timedelta(seconds=1)
    name, group = f"a{uuid.uuid4().hex[:8]}", f"g{uuid.uuid4().hex[:8]}"
    auditor = _user(db_engine, roles=["auditor"])
    async with web(make_settings()) as http:
        admin = auth(tokens["root"])
        assert (
            await http.post("/api/v1/admin/groups", json={"name": group}, headers=admin)
        ).status_code == 201
        r = await http.post("/api/v1/admin/users", json={"username": name, "roles": ["agent"]}, headers=admin)
        assert r.status_code == 201
        assert (
            await http.put(f"/api/v1/admin/groups/{group}/members/{name}", headers=admin)
        ).status_code == 200
        assert (
            await http.delete(f"/api/v1/admin/groups/{group}/members/{name}", headers=admin)
        ).status_code == 200
        assert (
            await http.put(f"/api/v1/admin/users/{name}/roles/approver", headers=admin)
        ).status_code == 200
        assert (
            await http.delete(f"/api/v1/admin/users/{name}/roles/agent", headers=admin)
        ).status_code == 200
        r = await http.patch(f"/api/v1/admin/users/{name}", json={"email": "n@bank.test"}, headers=admin)
        assert r.status_code == 200
        created = (await http.post("/api/v1/admin/tokens", json={"username": name}, headers=admin)).json()
        assert (
            await http.post(f"/api/v1/admin/tokens/{created['id']}/revoke", headers=admin)
        ).status_code == 200
        temporary = (await http.post(f"/api/v1/admin/users/{name}/password", headers=admin)).json()
        assert (
            await http.patch(f"/api/v1/admin/users/{name}", json={"active": False}, headers=admin)
        ).status_code == 200
        key = await _publish(http, tokens["owner"], f"role_{uuid.uuid4().hex[:6]}")

        auditor_token = (
            await http.post("/api/v1/admin/tokens", json={"username": auditor}, headers=admin)
        ).json()
        r = await http.get(
            "/api/v1/admin/audit",
            params={"actor": "root", "since": start.isoformat()},
            headers=auth(auditor_token["token"]),
        )
        assert r.status_code == 200
        mine = [
            (e["action"], e["target"])
            for e in reversed(r.json())
            if name in (e["target"], e["details"].get("username"))
        ]
        assert mine == [
            ("user.created", name),
            ("group.member_added", group),
            ("group.member_removed", group),
            ("role.granted", name),
            ("role.revoked", name),
            ("user.updated", name),
            ("token.issued", name),
            ("token.revoked", name),
            ("password.reset", name),
            ("user.deactivated", name),
        ]
        assert ("group.created", group) in [(e["action"], e["target"]) for e in r.json()]
        everything = r.text
        assert created["token"] not in everything and temporary["temporary_password"] not in everything
        assert created["token"].split("_", 2)[2] not in everything

        r = await http.get("/api/v1/admin/audit", params={"action": "definition.published"}, headers=admin)
        assert any(e["target"] == f"{key} v1" and e["actor"] == "owner" for e in r.json())
        r = await http.get(
            "/api/v1/admin/audit", params={"action": "role.granted", "limit": 1}, headers=admin
        )
        assert len(r.json()) == 1
        r = await http.get("/api/v1/admin/audit", params={"action": "nonsense"}, headers=admin)
        assert r.status_code == 422
        r = await http.get("/api/v1/admin/audit", params={"since": "2020-01-01T00:00:00"}, headers=admin)
        assert r.status_code == 200  # a time without offset is UTC
        r = await http.get("/api/v1/admin/audit", headers=auth(tokens["bob"]))
        assert r.status_code == 403 and "Administrator or Auditor" in r.json()["detail"]
        # An auditor reads the trail but manages nothing.
        r = await http.get("/api/v1/admin/users", headers=auth(auditor_token["token"]))
        assert r.status_code == 403


def test_the_audit_table_is_append_only(db_engine: Engine) -> None:
    with session_scope(db_engine) as session:
        row = AdminEventRow(at=utcnow(), actor="test", action="user.updated", target="x", details={})
        session.add(row)
        session.flush()
        row_id = row.id
    for statement in (
        f"UPDATE admin_events SET actor = 'mallory' WHERE id = {row_id}",
        f"DELETE FROM admin_events WHERE id = {row_id}",
    ):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), db_engine.begin() as conn:
            conn.execute(text(statement))
    if db_engine.dialect.name == "postgresql":
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), db_engine.begin() as conn:
            conn.execute(text("TRUNCATE admin_events"))
    with db_engine.connect() as conn:
        assert conn.execute(text(f"SELECT actor FROM admin_events WHERE id = {row_id}")).scalar() == "test"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, db_engine: Engine) -> Any:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_grant_revoke_and_reset_from_the_shell(
    cli_env: None, db_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _user(db_engine)
    assert main(["users", "grant", name, "auditor"]) == 0
    assert "auditor" in capsys.readouterr().out
    assert main(["users", "grant", name, "wizard"]) == 2
    err = capsys.readouterr().err
    assert "unknown role 'wizard'" in err and "process_owner" in err
    assert main(["users", "revoke", name, "auditor"]) == 0
    assert main(["users", "revoke", name, "auditor"]) == 1
    capsys.readouterr()
    assert main(["users", "roles"]) == 0
    assert "auditor" in capsys.readouterr().out
    assert main(["users", "reset-password", name]) == 0
    temporary = capsys.readouterr().out.strip()
    assert len(temporary) >= 16
    with session_scope(db_engine) as session:
        actions = [
            (e.actor.split(":")[0], e.action)
            for e in session.query(AdminEventRow)
            .filter(AdminEventRow.target == name)
            .order_by(AdminEventRow.id)  # type: ignore[arg-type]
        ]
        details = " ".join(
            str(e.details) for e in session.query(AdminEventRow).filter(AdminEventRow.target == name)
        )  # type: ignore[arg-type]
    assert actions == [("cli", "role.granted"), ("cli", "role.revoked"), ("cli", "password.reset")]
    assert temporary not in details


async def test_the_admin_page_grants_revokes_and_resets(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    name = _user(db_engine)
    async with web(make_settings()) as http:
        r = await http.post("/ui/sign-in", data={"username": "root", "token": tokens["root"]})
        assert r.status_code == 303
        page = await http.get("/ui/admin")
        assert (
            page.status_code == 200 and f'id="user-{name}"' in page.text and 'id="admin-events"' in page.text
        )
        csrf = csrf_of(page.text)
        r = await http.post(
            f"/ui/admin/users/{name}/roles", data={"csrf": csrf, "role": "approver", "op": "grant"}
        )
        assert r.status_code == 303
        r = await http.post(
            f"/ui/admin/users/{name}/roles", data={"csrf": csrf, "role": "wizard", "op": "grant"}
        )
        assert r.status_code == 422 and "unknown role" in r.text
        r = await http.post(
            f"/ui/admin/users/{name}/roles", data={"csrf": csrf, "role": "requester", "op": "revoke"}
        )
        assert r.status_code == 303
        r = await http.post(f"/ui/admin/users/{name}/password", data={"csrf": csrf})
        assert (
            r.status_code == 200
            and 'id="temporary-password"' in r.text
            and r.headers["cache-control"] == "no-store"
        )
        r = await http.post(f"/ui/admin/users/{name}/password", data={})
        assert r.status_code == 403  # no CSRF token
        audit_page = await http.get("/ui/admin/audit", params={"actor": "root", "action": "role.granted"})
        assert audit_page.status_code == 200 and name in audit_page.text
    user = await _get_user(web, make_settings, tokens, name)
    assert user["roles"] == ["approver"] and user["must_change_password"]

    async with web(make_settings()) as http:
        r = await http.post("/ui/sign-in", data={"username": "bob", "token": tokens["bob"]})
        assert (await http.get("/ui/admin")).status_code == 403


async def _get_user(
    web: Any,
    make_settings: Callable[..., Settings],
    tokens: dict[str, str],  # noqa: F811
    name: str,
) -> Any:
    async with web(make_settings()) as http:
        return (await http.get(f"/api/v1/admin/users/{name}", headers=auth(tokens["root"]))).json()
