"""Delegation on the web page without a browser: naming and revoking a substitute on My account, and
the substitute's inbox showing whom they decide for, deciding there, and the record saying so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from tests.api.conftest import Api, api  # noqa: F401 - the app on the test's worker
from tests.api.test_delegation import _in_approval, _users


async def _sign_in(http: httpx.AsyncClient, api: Api, user: str) -> str:  # noqa: F811
    await http.get("/ui/lang/en")
    r = await http.post("/ui/sign-in", data={"username": user, "token": api.tokens[user]})
    assert r.status_code == 303, r.text
    page = await http.get("/ui/account")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


async def test_a_substitute_is_named_on_the_account_page_and_decides_in_the_inbox(
    api: Api,  # noqa: F811
    db_engine: Engine,
) -> None:
    mgr, sub = _users(api, db_engine, "mgr", "sub")
    rec = await _in_approval(api, "alice", [mgr])
    http = api.http
    csrf = await _sign_in(http, api, mgr)
    page = await http.get("/ui/account")
    assert 'id="delegation-form"' in page.text and "Substitutes (delegation)" in page.text
    until = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    bad = await http.post(
        "/ui/account/delegations", data={"csrf": csrf, "substitute": sub, "ends_on": "someday"}
    )
    assert bad.status_code == 422 and "not a date" in bad.text
    made = await http.post(
        "/ui/account/delegations", data={"csrf": csrf, "substitute": sub, "ends_on": until, "reason": "leave"}
    )
    assert made.status_code == 303 and made.headers["location"] == "/ui/account?saved=delegation"
    page = await http.get("/ui/account?saved=delegation")
    assert "your substitute is notified" in page.text and f"<strong>{sub}</strong>" in page.text
    [delegation_id] = re.findall(r'data-delegation="(\d+)"', page.text)

    csrf = await _sign_in(http, api, sub)
    inbox = await http.get("/ui/inbox")
    assert f"for {mgr}" in inbox.text and f'name="on_behalf_of" value="{mgr}"' in inbox.text
    task = (await api.get(mgr, "/api/v1/approvals")).json()[0]
    key = re.search(r'name="key" value="([^"]+)"', inbox.text)
    assert key is not None
    decided = await http.post(
        f"/ui/approvals/{task['id']}/decision",
        data={
            "csrf": csrf,
            "decision": "approve",
            "key": key.group(1),
            "on_behalf_of": mgr,
            "back": "/ui/inbox",
        },
    )
    assert decided.status_code == 303, decided.text
    record = await http.get(f"/ui/records/{rec['number']}")
    assert record.status_code == 200
    assert re.search(rf"<strong>{sub}</strong> for {mgr} approved", record.text), record.text

    csrf = await _sign_in(http, api, mgr)
    revoked = await http.post(f"/ui/account/delegations/{delegation_id}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/ui/account?saved=revoked"
    page = await http.get("/ui/account")
    assert "revoked" in page.text and f"/ui/account/delegations/{delegation_id}/revoke" not in page.text
