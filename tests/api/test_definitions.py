"""The definition lifecycle through the API: draft, validate, publish, retire, read, diagram."""

from __future__ import annotations

import uuid

from tests.api.conftest import MINI, Api


def _yaml(api: Api, user: str = "owner") -> dict[str, str]:
    return {**api.headers(user), "Content-Type": "application/yaml"}


async def test_draft_publish_and_read(api: Api) -> None:
    key = f"mini_{uuid.uuid4().hex[:8]}"
    source = MINI.replace("key: mini\n", f"key: {key}\n", 1)
    r = await api.http.post("/api/v1/definitions", content=source, headers=_yaml(api))
    assert r.status_code == 201 and r.json() == {"key": key, "version": 1, "status": "draft"}
    r = await api.post("owner", "/api/v1/definitions", {"source": source})  # JSON form
    assert r.status_code == 201 and r.json()["version"] == 2

    # No published version yet: a record cannot be started.
    r = await api.create("bob", key)
    assert r.status_code == 422 and f"no published definition '{key}'" in r.json()["detail"]

    r = await api.post("owner", f"/api/v1/definitions/{key}/versions/1/publish")
    assert r.status_code == 200 and r.json() == {"key": key, "version": 1, "status": "published"}
    r = await api.post("owner", f"/api/v1/definitions/{key}/versions/1/publish")
    assert r.status_code == 409 and "only a draft can be published" in r.json()["detail"]
    r = await api.post("owner", f"/api/v1/definitions/{key}/versions/9/publish")
    assert r.status_code == 404

    d = (await api.get("alice", f"/api/v1/definitions/{key}")).json()
    assert d["version"] == 1 and d["status"] == "published" and d["source"] == source
    assert d["definition"]["key"] == key and d["created_by"] == "owner" and d["published_by"] == "owner"
    fields = {f["name"]: f for f in d["start_fields"]}
    assert fields["impact"] == {
        "name": "impact",
        "type": "enum",
        "required": True,
        "values": ["1", "2"],
        "label": {"zh": "影响度", "en": "Impact"},
        "editable": True,
        "reference": None,
        "reference_states": None,
        "items": None,  # a checklist field's items (issue 20)
    }
    assert fields["plan"]["required"] is False and "priority" not in fields  # derived by the matrix
    assert fields["assignee"]["type"] == "user"
    draft = (await api.get("alice", f"/api/v1/definitions/{key}", params={"version": 2})).json()
    assert draft["status"] == "draft"

    listed = {d["key"]: d for d in (await api.get("bob", "/api/v1/definitions")).json()}
    assert listed[key]["version"] == 2 and listed[key]["published_version"] == 1
    assert listed[key]["title"] == {"zh": "测试流程", "en": "Test process"}

    diagram = await api.get("bob", f"/api/v1/definitions/{key}/diagram", params={"lang": "zh"})
    assert diagram.status_code == 200 and diagram.headers["content-type"].startswith("text/plain")
    assert diagram.text.startswith("stateDiagram-v2") and "处理中" in diagram.text

    r = await api.post("owner", f"/api/v1/definitions/{key}/versions/2/retire")
    assert r.status_code == 200 and r.json()["status"] == "retired"
    r = await api.post("owner", f"/api/v1/definitions/{key}/versions/2/retire")
    assert r.status_code == 409
    history = (await api.get("bob", f"/api/v1/definitions/{key}/versions")).json()
    assert [(v["version"], v["status"]) for v in history] == [(1, "published"), (2, "retired")]
    assert [e["action"] for e in history[0]["events"]] == ["created", "published"]
    assert [(e["action"], e["actor"]) for e in history[1]["events"]] == [
        ("created", "owner"),
        ("retired", "owner"),
    ]
    assert history[1]["retired_by"] == "owner" and history[1]["retired_at"]


async def test_invalid_definitions_list_every_problem_with_its_path(api: Api) -> None:
    bad = MINI.replace(
        "to: in_progress\n    allowed: {roles: [agent]}", "to: nowhere\n    allowed: {roles: [agent]}", 1
    )
    bad = bad.replace("number_prefix: MIN", "number_prefix: min")
    r = await api.http.post("/api/v1/definitions", content=bad, headers=_yaml(api))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    paths = [e["path"] for e in r.json()["errors"]]
    assert "number_prefix" in paths

    r = await api.post("bob", "/api/v1/definitions/validate", {"source": bad})
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["errors"]
    r = await api.http.post(
        "/api/v1/definitions/validate", content="key: [unclosed", headers=_yaml(api, "bob")
    )
    assert r.status_code == 200 and r.json()["valid"] is False
    assert "invalid YAML" in r.json()["errors"][0]["message"]
    r = await api.post("bob", "/api/v1/definitions/validate", {"source": MINI})
    assert r.json() == {"valid": True, "errors": []}
    r = await api.post("bob", "/api/v1/definitions/validate", {"text": MINI})
    assert r.status_code == 422 and {e["path"] for e in r.json()["errors"]} >= {"body.source"}


async def test_only_process_owners_change_definitions(api: Api, mini: str) -> None:
    r = await api.post("bob", "/api/v1/definitions", {"source": MINI})
    assert r.status_code == 403 and "Process owner or Administrator" in r.json()["detail"]
    r = await api.post("bob", f"/api/v1/definitions/{mini}/versions/1/retire")
    assert r.status_code == 403
    r = await api.get("bob", "/api/v1/definitions/no_such_thing")
    assert r.status_code == 404 and "no_such_thing" in r.json()["detail"]


async def test_publishing_keeps_running_records_on_their_version(api: Api, mini: str) -> None:
    old = (await api.create("alice", mini)).json()
    assert old["definition_version"] == 1
    # Version 2 renames a state label: new records get it, the running one keeps version 1.
    v2 = MINI.replace("key: mini\n", f"key: {mini}\n", 1).replace("en: In progress}", "en: Being worked on}")
    r = await api.post("owner", "/api/v1/definitions", {"source": v2})
    assert r.status_code == 201 and r.json()["version"] == 2
    assert (await api.post("owner", f"/api/v1/definitions/{mini}/versions/2/publish")).status_code == 200

    new = (await api.create("alice", mini)).json()
    assert new["definition_version"] == 2
    url = f"/api/v1/processes/{old['id']}/transitions"
    moved = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert moved.status_code == 200
    assert moved.json()["definition_version"] == 1 and moved.json()["state_label"]["en"] == "In progress"
    url = f"/api/v1/processes/{new['id']}/transitions"
    moved = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert moved.json()["definition_version"] == 2 and moved.json()["state_label"]["en"] == "Being worked on"
