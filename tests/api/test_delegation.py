"""Delegation of approvals through the API and a Temporal client: an approver names a substitute for
a date range; the substitute decides for them, the audit says so, separation of duties holds for
both, and a Temporal client cannot claim a delegation that does not exist.

Each test makes its own users (a fresh suffix), so delegations never reach other tests' inboxes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from api.auth import issue_token
from core.converter import data_converter
from core.db import session_scope
from core.store import upsert_user
from core.tables import AdminEventRow, NotificationRow
from tests.api.conftest import MINI, Api
from worker.registry import WORKFLOWS, sandbox_runner
from workflows.contracts import Actor, DecideApprovalInput
from workflows.process import ProcessWorkflow


def _users(api: Api, db_engine: Engine, *names: str, lang: str = "en") -> list[str]:
    sfx = uuid.uuid4().hex[:6]
    out = []
    with session_scope(db_engine) as session:
        for name in names:
            username = f"{name}{sfx}"
            upsert_user(session, username=username, roles=["requester", "approver"], groups=[], language=lang)
            api.tokens[username] = issue_token(session, username=username)
            out.append(username)
    return out


def _until(days: float = 1) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _in_approval(api: Api, requester: str, approvers: list[str]) -> dict:  # type: ignore[type-arg]
    """A record waiting for one level: every one of `approvers` must approve (policy all)."""
    board = (
        "      - name: board\n        approvers: {groups: [cab]}\n        policy: quorum\n        quorum: 2\n"
    )
    assert board in MINI
    source = MINI.replace(board, "").replace(
        "approvers: {users: [boss]}", "approvers: {users: [" + ", ".join(approvers) + "]}"
    )
    key = await api.publish_mini(source=source)
    rec = (await api.create(requester, key)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    r = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert r.status_code == 200, r.text
    fields = {"plan": "swap disk", "backout_plan": "swap back", "risk": 2}
    r = await api.post("bob", url, {"trigger": "submit", "fields": fields})
    assert r.status_code == 200 and r.json()["state"] == "approval", r.text
    return r.json()  # type: ignore[no-any-return]


async def test_delegations_are_created_listed_and_revoked_with_audit(api: Api, db_engine: Engine) -> None:
    mgr, sub, other = _users(api, db_engine, "mgr", "sub", "oth")
    with session_scope(db_engine) as session:
        upsert_user(session, username=sub, roles=["approver"], groups=[], language="zh")
    body = {"substitute": sub, "ends_at": _until(3), "reason": "annual leave"}
    r = await api.post(mgr, "/api/v1/delegations", body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["principal"] == mgr and made["substitute"] == sub and made["in_force"] is True
    # The substitute is told, in their language, in the inbox copy.
    with session_scope(db_engine) as session:
        notes = session.exec(select(NotificationRow).where(NotificationRow.recipient == sub)).all()
        assert [n.template for n in notes] == ["delegation"]
        assert mgr in notes[0].subject and "代理人" in notes[0].subject and "annual leave" in notes[0].body
        events = session.exec(
            select(AdminEventRow).where(AdminEventRow.target == mgr, AdminEventRow.actor == mgr)
        ).all()
        assert [e.action for e in events] == ["delegation.created"]
        assert events[0].details["substitute"] == sub
    # Both people see it; someone else does not.
    for who in (mgr, sub):
        listed = (await api.get(who, "/api/v1/delegations")).json()
        assert [d["id"] for d in listed] == [made["id"]]
    assert (await api.get(other, "/api/v1/delegations")).json() == []
    # Refusals, each naming what is wrong, and nothing written.
    r = await api.post(other, "/api/v1/delegations", {**body, "principal": mgr})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = await api.post(mgr, "/api/v1/delegations", {**body, "substitute": mgr})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.substitute"
    r = await api.post(mgr, "/api/v1/delegations", {**body, "ends_at": _until(-1)})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.ends_at"
    r = await api.post(mgr, "/api/v1/delegations", {**body, "ends_at": _until(400)})
    assert r.status_code == 422 and "year" in r.json()["errors"][0]["message"]
    r = await api.post(mgr, "/api/v1/delegations", {**body, "substitute": "nobody_" + mgr})
    assert r.status_code == 404 and r.json()["errors"][0]["path"] == "body.substitute"
    r = await api.post(mgr, "/api/v1/delegations", {**body, "ends_at": "0001-01-01T00:00:00+14:00"})
    assert r.status_code == 422
    r = await api.post(mgr, "/api/v1/delegations", {**body, "substitute": "bot"})
    assert r.status_code == 422 and "service account" in r.json()["detail"]
    # An admin sets one for someone else.
    r = await api.post("root", "/api/v1/delegations", {**body, "principal": other})
    assert r.status_code == 201 and r.json()["principal"] == other and r.json()["created_by"] == "root"
    # The substitute may not revoke; the approver may, once; a stranger gets 404.
    url = f"/api/v1/delegations/{made['id']}"
    assert (await api.http.delete(url, headers=api.headers(sub))).status_code == 403
    assert (await api.http.delete(url, headers=api.headers(other))).status_code == 404
    r = await api.http.delete(url, headers=api.headers(mgr))
    assert r.status_code == 200 and r.json()["in_force"] is False and r.json()["revoked_by"] == mgr
    assert (await api.http.delete(url, headers=api.headers(mgr))).status_code == 409
    r = await api.get(mgr, "/api/v1/admin/audit", params={"target": mgr})
    assert r.status_code == 403  # the admin trail is for admins and auditors
    r = await api.get("root", "/api/v1/admin/audit", params={"target": mgr, "action": "delegation.revoked"})
    assert [e["details"]["delegation"] for e in r.json()] == [made["id"]]
    in_force = await api.get("root", "/api/v1/delegations", params={"principal": mgr, "in_force": True})
    assert in_force.json() == []


async def test_a_substitute_decides_for_the_approver(api: Api, db_engine: Engine) -> None:
    mgr, sub = _users(api, db_engine, "mgr", "sub")
    rec = await _in_approval(api, "alice", [mgr])
    inbox = (await api.get(sub, "/api/v1/approvals")).json()
    assert inbox == []  # no delegation yet
    task = (await api.get(mgr, "/api/v1/approvals")).json()[0]
    decide = f"/api/v1/approvals/{task['id']}/decision"
    r = await api.post(sub, decide, {"decision": "approve", "on_behalf_of": mgr})
    assert r.status_code == 403 and "delegation" in r.json()["detail"]

    made = (await api.post(mgr, "/api/v1/delegations", {"substitute": sub, "ends_at": _until()})).json()
    inbox = (await api.get(sub, "/api/v1/approvals")).json()
    assert [(t["id"], t["on_behalf_of"]) for t in inbox] == [(task["id"], mgr)]
    r = await api.post(sub, decide, {"decision": "approve", "comment": "ok for mgr", "on_behalf_of": mgr})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved"
    [decision] = r.json()["decisions"]
    assert (decision["by"], decision["substitute"], decision["delegation"]) == (mgr, sub, made["id"])
    after = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    assert after["state"] == "in_progress"
    history = (await api.get("bob", f"/api/v1/processes/{rec['id']}/history")).json()
    [row] = [e for e in history if e["action"] == "approval_decision"]
    assert row["actor"] == sub and row["details"]["on_behalf_of"] == mgr
    assert row["details"]["delegation"] == made["id"]
    # The approver's own inbox and the substitute's are empty now; the approver cannot decide again.
    assert (await api.get(mgr, "/api/v1/approvals")).json() == []
    assert (await api.get(sub, "/api/v1/approvals")).json() == []


async def test_separation_of_duties_binds_the_substitute_and_one_person_decides_once(
    api: Api, db_engine: Engine
) -> None:
    mgr, req, co = _users(api, db_engine, "mgr", "req", "co")
    for substitute in (req, co):
        r = await api.post(mgr, "/api/v1/delegations", {"substitute": substitute, "ends_at": _until()})
        assert r.status_code == 201
    # `co` is an approver too (policy all): they decide once, in their own name or for mgr, not both.
    rec = await _in_approval(api, req, [mgr, co])
    task = next(t for t in (await api.get(mgr, "/api/v1/approvals")).json() if t["record"]["id"] == rec["id"])
    decide = f"/api/v1/approvals/{task['id']}/decision"
    r = await api.post(req, decide, {"decision": "approve", "on_behalf_of": mgr})
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "separation of duties" in detail and "requester" in detail and "substitute of" in detail
    r = await api.post(co, decide, {"decision": "approve"})
    assert r.status_code == 200 and r.json()["state"] == "pending"
    r = await api.post(co, decide, {"decision": "approve", "on_behalf_of": mgr})
    assert r.status_code == 409 and "once" in r.json()["detail"]
    r = await api.post(mgr, decide, {"decision": "approve"})
    assert r.status_code == 200 and r.json()["state"] == "approved"


async def test_a_temporal_client_cannot_claim_a_delegation(
    api: Api, db_engine: Engine, temporal_client: Client
) -> None:
    """The decide Update sent straight to the workflow: the workflow looks the delegation up itself."""
    mgr, sub = _users(api, db_engine, "mgr", "sub")
    rec = await _in_approval(api, "alice", [mgr])
    task = (await api.get(mgr, "/api/v1/approvals")).json()[0]
    handle = temporal_client.get_workflow_handle(rec["id"])
    claim = DecideApprovalInput(
        actor=Actor(username=sub, roles=["approver"]),
        approval_id=task["id"],
        decision="approve",
        on_behalf_of=mgr,
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ProcessWorkflow.decide_approval, claim)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "NotAllowed"
    assert "no delegation" in cause.message
    # A revoked delegation is no better than none.
    made = (await api.post(mgr, "/api/v1/delegations", {"substitute": sub, "ends_at": _until()})).json()
    assert (
        await api.http.delete(f"/api/v1/delegations/{made['id']}", headers=api.headers(mgr))
    ).status_code == 200
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(ProcessWorkflow.decide_approval, claim)
    snap = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    assert snap["state"] == "approval" and snap["approvals"][-1]["decisions"] == []
    # With one in force, the same Update is accepted.
    made = (await api.post(mgr, "/api/v1/delegations", {"substitute": sub, "ends_at": _until()})).json()
    result = await handle.execute_update(ProcessWorkflow.decide_approval, claim)
    assert result.approvals[-1].decisions[0].delegation == made["id"]
    # The history — refused claims, the look-ups' markers, the accepted decision — replays as it ran,
    # under Temporal's sandbox too.
    replayer = Replayer(
        workflows=list(WORKFLOWS), workflow_runner=sandbox_runner(), data_converter=data_converter
    )
    await replayer.replay_workflow(await handle.fetch_history())
