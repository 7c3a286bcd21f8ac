"""Field rights through the HTTP API: a definition's `field_rights` and the fields separation of duties
protects, refused with the rule's words in the caller's language; what the caller may change is in the
record (`editable_fields`) and in each offered transition's fields (`editable`)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import MINI, Api

RIGHTS = """
field_rights:
  - fields: [builder]
    editors: {roles: [agent]}
    label: {zh: 构建人由处理人员指定, en: agents name the builder}
  - fields: [plan]
    states: [in_progress]
    editors: {relations: [assignee]}
"""


async def started(api: Api, key: str) -> dict[str, Any]:
    r = await api.create("alice", key)
    assert r.status_code == 201, r.text
    rec = r.json()
    r = await api.post(
        "bob",
        f"/api/v1/processes/{rec['id']}/transitions",
        {"trigger": "accept", "fields": {"assignee": "bob"}},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def patch(api: Api, user: str, rid: str, **fields: Any) -> Any:
    return await api.patch(user, f"/api/v1/processes/{rid}", {"fields": fields})


async def test_rules_refuse_with_their_words_in_the_callers_language(api: Api) -> None:
    key = await api.publish_mini(source=MINI + RIGHTS)
    rec = await started(api, key)
    rid = rec["id"]
    r = await patch(api, "alice", rid, builder="alice")
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:itilflow:problem:notallowed"
    assert "agents name the builder" in body["detail"] and body["errors"][0]["path"] == "fields.builder"
    # lead (an agent, who reads Chinese) may name the builder but not write the plan in progress.
    r = await patch(api, "lead", rid, plan="重装")
    assert r.status_code == 403
    assert r.json()["detail"] == (
        f"lead 不能在“处理中”状态下修改 {rec['number']} 的plan：仅本记录的处理人可以修改（字段权限规则）"
    )
    r = await patch(api, "bob", rid, plan="reinstall", builder="lead")
    assert r.status_code == 200, r.text
    assert r.json()["fields"]["builder"] == "lead" and r.json()["fields"]["plan"] == "reinstall"


async def test_protected_fields_hold_and_the_record_says_what_the_caller_may_change(api: Api) -> None:
    key = await api.publish_mini(source=MINI + RIGHTS)
    rid = (await started(api, key))["id"]
    assert (await patch(api, "bob", rid, builder="bob")).status_code == 200

    # bob, now the builder the CAB approval excludes, may neither clear nor change the field ...
    for value in (None, "lead"):
        r = await patch(api, "bob", rid, builder=value)
        assert r.status_code == 403 and r.json()["type"] == "urn:itilflow:problem:separationofduties"
        assert r.json()["detail"].startswith("separation of duties: bob may not change builder")
    # ... nor through a transition's values; nothing is written either way.
    r = await api.post(
        "bob",
        f"/api/v1/processes/{rid}/transitions",
        {"trigger": "submit", "fields": {"plan": "p", "backout_plan": "b", "risk": 2, "builder": "lead"}},
    )
    assert r.status_code == 403 and "separation of duties" in r.json()["detail"]
    rec = (await api.get("bob", f"/api/v1/processes/{rid}")).json()
    assert rec["state"] == "in_progress" and rec["fields"]["builder"] == "bob"
    # The requester may not rename the requester.
    r = await patch(api, "alice", rid, requester="bob")
    assert r.status_code == 403 and "alice may not change Requester" in r.json()["detail"]

    assert "builder" not in rec["editable_fields"] and "plan" in rec["editable_fields"]
    as_lead = (await api.get("lead", f"/api/v1/processes/{rid}")).json()
    assert "builder" in as_lead["editable_fields"] and "plan" not in as_lead["editable_fields"]
    as_alice = (await api.get("alice", f"/api/v1/processes/{rid}")).json()
    assert not {"builder", "requester", "plan"} & set(as_alice["editable_fields"])
    resolve = next(t for t in rec["available_transitions"] if t["trigger"] == "resolve")
    assert all(f["editable"] for f in resolve["required_fields"])
    # Someone else may change it: lead (an agent) names the builder.
    r = await patch(api, "lead", rid, builder="lead")
    assert r.status_code == 200 and r.json()["fields"]["builder"] == "lead"
    history = (await api.get("bob", f"/api/v1/processes/{rid}/history")).json()
    changes = [h["details"]["fields"] for h in history if h["action"] == "fields_changed"]
    assert changes == [{"builder": "bob"}, {"builder": "lead"}]


async def test_a_bad_rule_is_refused_at_publishing_with_its_path(api: Api) -> None:
    bad = MINI + "field_rights:\n  - {fields: [biulder], editors: {roles: [agent]}}\n"
    r = await api.http.post(
        "/api/v1/definitions",
        content=bad.replace("key: mini\n", "key: mini_badrights\n", 1),
        headers={**api.headers("owner"), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 422
    assert any(e["path"] == "field_rights[0].fields[0]" for e in r.json()["errors"]), r.json()


async def test_start_fields_say_what_the_creator_may_set_and_creation_is_bound(api: Api) -> None:
    key = await api.publish_mini(source=MINI + RIGHTS)
    as_alice = {
        f["name"]: f for f in (await api.get("alice", f"/api/v1/definitions/{key}")).json()["start_fields"]
    }
    as_bob = {
        f["name"]: f for f in (await api.get("bob", f"/api/v1/definitions/{key}")).json()["start_fields"]
    }
    assert as_alice["builder"]["editable"] is False and as_alice["plan"]["editable"] is True
    assert as_bob["builder"]["editable"] is True
    r = await api.create("alice", key, builder="alice")
    assert r.status_code == 403 and "agents name the builder" in r.json()["detail"]
    r = await api.create("bob", key, builder="lead")
    assert r.status_code == 201 and r.json()["fields"]["builder"] == "lead"
