"""Authentication, roles, and the admin endpoints for users, groups and tokens."""

from __future__ import annotations

import logging
import uuid

import pytest

from tests.api.conftest import Api, auth

UNAUTHENTICATED = "a valid API token is required (Authorization: Bearer itf_…)"


async def test_missing_or_bad_tokens_get_the_same_401(api: Api) -> None:
    bob = api.tokens["bob"]
    token_id = bob.split("_")[1]
    for headers in (
        {},
        auth("not-a-token"),
        auth(f"itf_{token_id}_wrongsecret"),
        auth("itf_000000000000_whatever"),
        {"Authorization": f"Basic {bob}"},
    ):
        r = await api.http.get("/api/v1/processes", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == UNAUTHENTICATED  # never says whether the user or token exists
        assert r.headers["www-authenticate"] == "Bearer"


async def test_admin_manages_users_groups_and_tokens(api: Api) -> None:
    name = f"u{uuid.uuid4().hex[:8]}"
    group = f"g{uuid.uuid4().hex[:8]}"
    r = await api.post("root", "/api/v1/admin/groups", {"name": group, "label": "Night shift"})
    assert r.status_code == 201 and r.json() == {
        "name": group,
        "label": "Night shift",
        "lead": None,
        "members": [],
    }
    r = await api.post(
        "root",
        "/api/v1/admin/users",
        {
            "username": name,
            "roles": ["agent"],
            "groups": [group],
            "email": f"{name}@example.test",
            "language": "en",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["roles"] == ["agent"] and r.json()["groups"] == [group]
    r = await api.post("root", "/api/v1/admin/users", {"username": name, "roles": ["agent"]})
    assert r.status_code == 409 and f"user '{name}' already exists" in r.json()["detail"]
    r = await api.post("root", "/api/v1/admin/users", {"username": "x" + name, "roles": ["wizard"]})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.roles[0]"
    r = await api.post("root", "/api/v1/admin/users", {"roles": ["agent"]})
    assert r.status_code == 422 and {"path": "body.username", "message": "required"} in r.json()["errors"]

    r = await api.post("root", "/api/v1/admin/tokens", {"username": name, "name": "laptop"})
    assert r.status_code == 201 and r.json()["token"].startswith("itf_")
    token, token_id = r.json()["token"], r.json()["id"]
    me = await api.http.get("/api/v1/me", headers=auth(token))
    assert me.status_code == 200 and me.json()["username"] == name and me.json()["groups"] == [group]
    listed = (await api.get("root", "/api/v1/admin/tokens", params={"username": name})).json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0] and listed[0]["last_used_at"]

    r = await api.http.put(f"/api/v1/admin/groups/{group}/members/bob", headers=api.headers("root"))
    assert r.status_code == 200 and r.json()["members"] == ["bob", name]
    r = await api.http.delete(f"/api/v1/admin/groups/{group}/members/bob", headers=api.headers("root"))
    assert r.status_code == 200 and r.json()["members"] == [name]
    r = await api.http.delete(f"/api/v1/admin/groups/{group}/members/bob", headers=api.headers("root"))
    assert r.status_code == 404

    r = await api.patch(
        "root", f"/api/v1/admin/users/{name}", {"roles": ["agent", "approver"], "language": "zh"}
    )
    assert (
        r.status_code == 200 and r.json()["roles"] == ["agent", "approver"] and r.json()["language"] == "zh"
    )

    r = await api.post("root", f"/api/v1/admin/tokens/{token_id}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert (await api.http.get("/api/v1/me", headers=auth(token))).status_code == 401

    # A deactivated user's tokens stop working at once.
    token2 = (await api.post("root", "/api/v1/admin/tokens", {"username": name})).json()["token"]
    assert (await api.http.get("/api/v1/me", headers=auth(token2))).status_code == 200
    assert (await api.patch("root", f"/api/v1/admin/users/{name}", {"active": False})).status_code == 200
    assert (await api.http.get("/api/v1/me", headers=auth(token2))).status_code == 401

    users = {u["username"] for u in (await api.get("root", "/api/v1/admin/users")).json()}
    assert {name, "alice", "bob"} <= users
    assert (await api.get("root", "/api/v1/admin/users/nobody-here")).status_code == 404


async def test_non_admins_are_refused_with_the_role_named(api: Api) -> None:
    for method, url in (
        ("GET", "/api/v1/admin/users"),
        ("POST", "/api/v1/admin/tokens"),
        ("GET", "/api/v1/admin/groups"),
    ):
        r = await api.http.request(method, url, headers=api.headers("bob"), json={"username": "bob"})
        assert r.status_code == 403
        assert (
            r.json()["detail"]
            == "role required: this needs the role Administrator; bob has Agent (service desk, support)"
        )


async def test_tokens_never_reach_the_logs(api: Api, mini: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = api.tokens["bob"]
    bad = secret[:-4] + "zzzz"
    await api.get("bob", "/api/v1/processes")
    await api.create("bob", mini)
    await api.http.get("/api/v1/processes", headers=auth(bad))
    r = await api.post("root", "/api/v1/admin/tokens", {"username": "bob", "name": "log test"})
    created = r.json()["token"]
    text = caplog.text + "".join(str(rec.args) for rec in caplog.records)
    assert caplog.records  # the stack did log (httpx, Temporal client…), just not the secrets
    for token in (secret, bad, created):
        assert token not in text and token.split("_", 2)[2] not in text


async def test_healthz(api: Api) -> None:
    r = await api.http.get("/healthz")
    body = r.json()
    assert r.status_code == 200 and {k: body[k] for k in ("status", "temporal", "database")} == {
        "status": "ok",
        "temporal": "ok",
        "database": "ok",
    }
    assert isinstance(body["warnings"], list)  # calendars running out of holidays (tests/api/test_health.py)
