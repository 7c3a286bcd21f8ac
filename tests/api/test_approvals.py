"""An approval flow end to end through the API: quorum at the CAB, then the manager, then back."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from api.auth import issue_token
from core.db import session_scope
from core.store import upsert_user
from core.tables import UserRow
from tests.api.conftest import MINI, Api


async def _in_approval(api: Api, mini: str, requester: str = "alice") -> dict:  # type: ignore[type-arg]
    rec = (await api.create(requester, mini)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    assert (
        await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    ).status_code == 200
    r = await api.post("bob", url, {"trigger": "submit", "fields": {"risk": 5}})
    assert r.status_code == 409 and "risk must be at most 4" in r.json()["detail"]  # the guard's message
    r = await api.post("bob", url, {"trigger": "submit", "fields": {"risk": 2}})
    assert r.status_code == 422
    assert {e["path"] for e in r.json()["errors"]} == {"fields.plan", "fields.backout_plan"}
    r = await api.post(
        "bob",
        url,
        {"trigger": "submit", "fields": {"plan": "swap disk", "backout_plan": "swap back", "risk": 2}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approval"
    return r.json()  # type: ignore[no-any-return]


async def _task_for(api: Api, user: str, record_id: str) -> dict | None:  # type: ignore[type-arg]
    inbox = (await api.get(user, "/api/v1/approvals", params={"status": "pending"})).json()
    return next((t for t in inbox if t["record"]["id"] == record_id), None)


async def test_approval_flow_quorum_then_manager(api: Api, mini: str) -> None:
    rec = await _in_approval(api, mini)
    task = await _task_for(api, "carol", rec["id"])
    assert task is not None and task["level_name"] == "board" and task["needed"] == 2
    assert task["record"]["number"] == rec["number"] and task["record"]["fields"]["risk"] == 2
    assert task["record"]["title"] == "Printer on fire" and task["record"]["state"] == "approval"
    decide = f"/api/v1/approvals/{task['id']}/decision"

    r = await api.post("bob", decide, {"decision": "approve"})
    assert r.status_code == 403 and "not an approver" in r.json()["detail"]
    r = await api.post("carol", decide, {"decision": "approve", "comment": "fine"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "pending" and [d["by"] for d in r.json()["decisions"]] == ["carol"]
    assert await _task_for(api, "carol", rec["id"]) is None  # decided: out of carol's inbox
    r = await api.post("carol", decide, {"decision": "approve"})
    assert r.status_code == 409 and "的审批“cab”作出决定" in r.json()["detail"]  # carol reads Chinese
    r = await api.post("dave", decide, {"decision": "maybe"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.decision"
    r = await api.post("dave", decide, {"decision": "approve"})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    r = await api.post("erin", decide, {"decision": "approve"})
    assert r.status_code == 409 and "approved" in r.json()["detail"]

    manager = await _task_for(api, "boss", rec["id"])
    assert manager is not None and manager["level_name"] == "manager"
    r = await api.post("boss", f"/api/v1/approvals/{manager['id']}/decision", {"decision": "approve"})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    after = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    assert after["state"] == "in_progress"
    assert [a["state"] for a in after["approvals"]] == ["approved", "approved"]

    r = await api.post("boss", "/api/v1/approvals/nope/decision", {"decision": "approve"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]


async def test_separation_of_duties_is_refused_with_the_rule(api: Api, mini: str, db_engine: Engine) -> None:
    # A requester who also sits on the CAB may not approve their own change. The user is deactivated
    # afterwards so it does not join the CAB of other tests' approvals.
    name = "sodreq"
    with session_scope(db_engine) as session:
        user = upsert_user(
            session, username=name, roles=["requester", "approver"], groups=["cab"], language="en"
        )
        user.active = True
        api.tokens[name] = issue_token(session, username=name)
    try:
        rec = await _in_approval(api, mini, requester=name)
        task = await _task_for(api, "carol", rec["id"])
        assert task is not None
        assert await _task_for(api, name, rec["id"]) is None  # not offered to the excluded requester
        r = await api.post(name, f"/api/v1/approvals/{task['id']}/decision", {"decision": "approve"})
        assert r.status_code == 403
        detail = r.json()["detail"]
        assert "separation of duties" in detail and "requester" in detail and name in detail
    finally:
        with session_scope(db_engine) as session:
            row = session.get(UserRow, name)
            assert row is not None
            row.active = False
            session.add(row)


async def test_rejection_closes_the_record(api: Api) -> None:
    # A board of exactly three (a fresh group), so the quorum arithmetic does not depend on who else
    # sits on the shared test CAB.
    board = f"board_{uuid.uuid4().hex[:8]}"
    r = await api.post("root", "/api/v1/admin/groups", {"name": board})
    assert r.status_code == 201
    for member in ("carol", "dave", "erin"):
        r = await api.http.put(f"/api/v1/admin/groups/{board}/members/{member}", headers=api.headers("root"))
        assert r.status_code == 200
    mini = await api.publish_mini(
        source=MINI.replace("approvers: {groups: [cab]}", f"approvers: {{groups: [{board}]}}")
    )
    rec = await _in_approval(api, mini)
    task = await _task_for(api, "erin", rec["id"])
    assert task is not None and sorted(task["eligible"]) == ["carol", "dave", "erin"]
    decide = f"/api/v1/approvals/{task['id']}/decision"
    r = await api.post("erin", decide, {"decision": "reject", "comment": "too risky"})
    # Quorum 2 of 3: one rejection leaves it reachable, the second does not.
    assert r.status_code == 200 and r.json()["state"] == "pending"
    # A rejection says why (issue 16): a bare one is refused, naming the comment, in the caller's words.
    r = await api.post("dave", decide, {"decision": "reject"})
    assert r.status_code == 422 and r.json()["type"] == "urn:itilflow:problem:missingfields"
    assert {e["path"] for e in r.json()["errors"]} == {"comment"} and "reason" in r.json()["detail"]
    r = await api.post("carol", decide, {"decision": "reject", "comment": "  "})  # carol reads Chinese
    assert r.status_code == 422 and "须说明理由" in r.json()["detail"]
    r = await api.post("dave", decide, {"decision": "reject", "comment": "no back-out plan"})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    after = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    assert after["state"] == "rejected" and after["final"] is True
