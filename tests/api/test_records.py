"""Records through the HTTP API, on a real worker and Temporal server."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.tables import RecordRow
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


async def test_create_read_and_act_with_read_your_writes(api: Api, mini: str) -> None:
    r = await api.create("alice", mini)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["state"] == "new" and rec["state_category"] == "new"
    assert rec["number"].startswith("MIN") and rec["priority"] == "3" and rec["requester"] == "alice"
    assert rec["definition"] == mini and rec["definition_version"] == 1
    assert rec["created_at"].endswith("Z") or "+" in rec["created_at"]

    # Available transitions are the caller's: bob (agent) may accept, alice may not.
    as_bob = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    accept = next(t for t in as_bob["available_transitions"] if t["trigger"] == "accept")
    assert accept["to"] == "in_progress"
    assert any(f["name"] == "assignee" and f["type"] == "user" for f in accept["required_fields"])
    as_alice = (await api.get("alice", f"/api/v1/processes/{rec['number']}")).json()
    assert as_alice["id"] == rec["id"] and as_alice["available_transitions"] == []

    r = await api.post(
        "bob",
        f"/api/v1/processes/{rec['id']}/transitions",
        {"trigger": "accept", "fields": {"assignee": "bob"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_progress" and r.json()["assignee"] == "bob"
    # Read-your-writes: the very next reads (workflow query and read model) show the new state.
    again = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    assert again["state"] == "in_progress"
    listed = (await api.get("bob", "/api/v1/processes", params={"q": rec["number"]})).json()
    assert [i["state"] for i in listed["items"]] == ["in_progress"]

    r = await api.patch("bob", f"/api/v1/processes/{rec['id']}", {"fields": {"impact": "1", "urgency": "1"}})
    assert r.status_code == 200, r.text
    assert r.json()["priority"] == "1"

    r = await api.post("alice", f"/api/v1/processes/{rec['id']}/comments", {"body": "any news?"})
    assert r.status_code == 201, r.text
    assert r.json()["actor"] == "alice" and r.json()["number"] == rec["number"]

    history = (await api.get("alice", f"/api/v1/processes/{rec['number']}/history")).json()
    actions = [(h["action"], h["actor"]) for h in history]
    assert actions[0] == ("created", "alice")
    assert ("transition", "bob") in actions and ("comment", "alice") in actions
    assert any(h["comment"] == "any news?" for h in history)
    move = next(h for h in history if h["action"] == "transition")
    assert (move["from_state"], move["to_state"]) == ("new", "in_progress")


async def test_create_refusals_write_nothing(api: Api, mini: str, db_engine: Engine) -> None:
    title = f"refused {uuid.uuid4().hex}"
    r = await api.post(
        "alice", "/api/v1/processes", {"definition": mini, "title": title, "fields": {"urgency": "1"}}
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 422 and "Impact" in body["detail"]
    assert {"path": "fields.impact", "message": "required"} in body["errors"]

    r = await api.create("alice", mini, title=title, risk="high")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "fields.risk"

    r = await api.create("carol", mini, title=title)  # approvers may not start records
    # carol reads Chinese (her profile): the rule in her language, roles by their labels.
    assert (
        r.status_code == 403 and r.json()["detail"] == "仅处理人员、集成账户、请求人、管理员可以发起测试流程"
    )

    r = await api.create("alice", "no_such_process", title=title)
    assert r.status_code == 422 and "no_such_process" in r.json()["detail"]
    with Session(db_engine) as session:
        assert session.exec(select(RecordRow).where(RecordRow.title == title)).first() is None


async def test_transition_refusals_map_to_statuses(api: Api, mini: str) -> None:
    rec = (await api.create("alice", mini)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"

    r = await api.post("alice", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert r.status_code == 403 and "may not “accept”" in r.json()["detail"]
    r = await api.post("bob", url, {"trigger": "resolve"})
    assert r.status_code == 409 and "is “New”" in r.json()["detail"]
    r = await api.post("bob", url, {"trigger": "explode"})
    assert r.status_code == 409 and "no action 'explode'" in r.json()["detail"]
    r = await api.post("bob", url, {"trigger": "accept"})
    assert r.status_code == 422 and r.json()["errors"] == [{"path": "fields.assignee", "message": "required"}]
    r = await api.post("bob", url, {"fields": {}})  # FastAPI's own validation, same problem shape
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert {"path": "body.trigger", "message": "required"} in r.json()["errors"]
    r = await api.post("bob", "/api/v1/processes/NOPE0000001/transitions", {"trigger": "accept"})
    assert r.status_code == 404 and "NOPE0000001" in r.json()["detail"]

    after = (await api.get("bob", f"/api/v1/processes/{rec['id']}")).json()
    assert after["state"] == "new" and after["seq"] == rec["seq"]


async def test_closed_record_refuses_actions(api: Api, mini: str) -> None:
    rec = (await api.create("alice", mini)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    assert (
        await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    ).status_code == 200
    assert (
        await api.post("bob", url, {"trigger": "resolve", "fields": {"resolution": "done"}})
    ).status_code == 200
    r = await api.post("alice", url, {"trigger": "confirm"})
    assert r.status_code == 200 and r.json()["final"] is True

    r = await api.post("alice", url, {"trigger": "reopen", "comment": "again"})
    assert r.status_code == 409 and f"record {rec['number']} is closed" in r.json()["detail"]
    r = await api.post("alice", f"/api/v1/processes/{rec['id']}/comments", {"body": "late"})
    assert r.status_code == 409
    closed = (await api.get("alice", f"/api/v1/processes/{rec['id']}")).json()
    assert closed["state"] == "closed" and closed["available_transitions"] == []


async def test_list_filters_and_keyset_pagination(api: Api, mini: str) -> None:
    tag = uuid.uuid4().hex[:10]
    ids = [(await api.create("alice", mini, title=f"disk {tag} {i}")).json()["id"] for i in range(3)]
    page = (await api.get("bob", "/api/v1/processes", params={"q": tag, "limit": 2})).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await api.get(
            "bob", "/api/v1/processes", params={"q": tag, "limit": 2, "cursor": page["next_cursor"]}
        )
    ).json()
    assert rest["next_cursor"] is None
    seen = [i["id"] for i in page["items"] + rest["items"]]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 3

    filtered = (
        await api.get(
            "bob", "/api/v1/processes", params={"definition": mini, "state": "new", "priority": "3", "q": tag}
        )
    ).json()
    assert len(filtered["items"]) == 3
    none = (await api.get("bob", "/api/v1/processes", params={"q": tag, "state": "closed"})).json()
    assert none["items"] == []
    r = await api.get("bob", "/api/v1/processes", params={"cursor": "garbage!"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.cursor"
    r = await api.get("bob", "/api/v1/processes", params={"limit": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.limit"


async def test_requesters_see_only_their_own_records(api: Api, mini: str) -> None:
    rec = (await api.create("bob", mini, title="agent-made")).json()
    r = await api.get("alice", f"/api/v1/processes/{rec['id']}")
    assert r.status_code == 404
    listed = (await api.get("alice", "/api/v1/processes", params={"q": rec["number"]})).json()
    assert listed["items"] == []


async def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    r = await api.get("bob", "/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM and r.json()["status"] == 404
    r = await api.http.delete("/api/v1/processes", headers=api.headers("bob"))
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM
    r = await api.get("bob", "/api/v1/processes/unknown-record")
    assert r.status_code == 404 and r.json()["detail"] == "no record 'unknown-record'"
