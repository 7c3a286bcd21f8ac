"""Changes update the CMDB (seed 002 §8.3.5, §8.3.6; seed 003 §11.1, App. B.11), end to end on a real
Temporal server and the read model (SQLite, and PostgreSQL with -m db): CI changes proposed on a change
are checked when proposed and apply when the change's `apply_ci_changes` effect runs, each CI version
naming the change; one that no longer fits fails with its reason while the others apply; a class that
requires a change refuses a direct edit, and the attempt is counted in the configuration KPIs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from core.db import session_scope
from core.store import upsert_user
from tests.library.conftest import LibraryApi, ensure_users

CMDB = "/api/v1/cmdb"
# A small change process whose `implement` applies the proposed CI changes.
CHANGE = """
key: {key}
title: {{zh: 小变更, en: Small change}}
number_prefix: SCH
owner: process_owner
fields:
  - {{name: cmdb_updated, type: bool, default: false, label: {{zh: 已更新配置库, en: CMDB updated}}}}
states:
  - {{name: open, category: open, label: {{zh: 处理中, en: Open}}}}
  - {{name: done, category: closed, final: true, label: {{zh: 已完成, en: Done}}}}
transitions:
  - trigger: implement
    from: open
    to: done
    label: {{zh: 实施并确认, en: Implement and verify}}
    allowed: {{roles: [agent]}}
    effects:
      - apply_ci_changes: {{done_field: cmdb_updated}}
"""


@pytest.fixture(scope="module", autouse=True)
def _people(db_engine: Engine) -> None:
    ensure_users(db_engine, [("cfg", ["configuration_manager"], [])])
    with session_scope(db_engine) as session:
        upsert_user(session, username="cfgzh", roles=["configuration_manager"], language="zh")


async def _ci(api: LibraryApi, cls: str, name: str, **attributes: Any) -> int:
    r = await api.post("cfg", f"{CMDB}/cis", {"class": cls, "name": name, "attributes": attributes})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _firewalls_require_changes(api: LibraryApi) -> None:
    """Publish the model in force with security devices changed only through changes."""
    current = (await api.get("cfg", f"{CMDB}/model")).json()
    if any(c["name"] == "security_device" and c.get("requires_change") for c in current["model"]["classes"]):
        return
    source = current["source"].replace(
        "  - name: security_device", "  - name: security_device\n    requires_change: true", 1
    )
    r = await api.http.post(
        f"{CMDB}/model", content=source, headers={**api.headers("cfg"), "Content-Type": "application/yaml"}
    )
    assert r.status_code == 201, r.text
    r = await api.post("cfg", f"{CMDB}/model/versions/{r.json()['version']}/publish")
    assert r.status_code == 200, r.text


async def test_a_change_applies_its_proposed_ci_changes_and_direct_edits_are_refused(api: LibraryApi) -> None:
    await _firewalls_require_changes(api)
    tag = uuid.uuid4().hex[:8]
    firewall = await _ci(api, "security_device", f"fw-{tag}", hostname=f"fw-{tag}", kind="firewall")
    server = await _ci(api, "server", f"old-{tag}", hostname=f"old-{tag}")
    doomed = await _ci(api, "server", f"gone-{tag}", hostname=f"gone-{tag}")

    # A direct edit of the firewall is refused, in the caller's language, and nothing changes.
    r = await api.http.patch(
        f"{CMDB}/cis/{firewall}", json={"attributes": {"location": "DC2"}}, headers=api.headers("cfgzh")
    )
    assert r.status_code == 409 and r.json()["type"].endswith("changerequired"), r.text
    assert r.json()["detail"].startswith(f"“fw-{tag}”属于“安全设备”类，只能通过变更修改")
    r = await api.post("cfg", f"{CMDB}/cis/{firewall}/retire", {})
    assert r.status_code == 409, r.text
    assert "location" not in (await api.get("cfg", f"{CMDB}/cis/{firewall}")).json()["attributes"]

    key = await api.publish_source(CHANGE.format(key=f"small_change_{tag}"))
    chg = await api.started("sam", key, "Move the firewall")
    url = f"/api/v1/processes/{chg['number']}/ci-changes"
    proposals = [
        {"action": "update", "ci": firewall, "attributes": {"location": "DC2"}},
        {
            "action": "create",
            "class": "server",
            "name": f"new-{tag}",
            "attributes": {"hostname": f"new-{tag}"},
        },
        {"action": "retire", "ci": server},
        {"action": "update", "ci": doomed, "attributes": {"os": "linux"}},
    ]
    made = []
    for body in proposals:
        r = await api.post("sam", url, body)
        assert r.status_code == 201, r.text
        made.append(r.json())
    assert [p["state"] for p in made] == ["proposed"] * 4 and made[1]["class"] == "server"
    # Checked when proposed: an attribute the class does not have, an unknown CI.
    r = await api.post("sam", url, {"action": "update", "ci": firewall, "attributes": {"colour": "red"}})
    assert r.status_code == 422, r.text
    r = await api.post("sam", url, {"action": "retire", "ci": 999999999})
    assert r.status_code == 404, r.text
    r = await api.post("sam", url, {"action": "create", "ci": firewall})
    assert r.status_code == 422, r.text
    # A requester cannot propose; a proposal can be withdrawn while it waits.
    r = await api.post("alice", url, proposals[0])
    assert r.status_code == 403, r.text
    extra = (await api.post("sam", url, {"action": "update", "ci": server, "attributes": {"os": "x"}})).json()
    r = await api.post("sam", f"{url}/{extra['id']}/withdraw")
    assert r.status_code == 200 and r.json()["state"] == "withdrawn", r.text
    r = await api.post("sam", f"{url}/{extra['id']}/withdraw")
    assert r.status_code == 409, r.text

    # Meanwhile the last proposal's CI is retired: that one will fail, the others still apply.
    r = await api.post("cfg", f"{CMDB}/cis/{doomed}/retire", {})
    assert r.status_code == 200, r.text

    rec = await api.fired("sam", chg["id"], "implement")
    assert rec["state"] == "done"
    assert rec["fields"]["cmdb_updated"] is False  # one failed: the CMDB is not fully updated
    listed = {p["id"]: p for p in (await api.get("sam", url)).json()}
    states = [listed[p["id"]]["state"] for p in made]
    assert states == ["applied", "applied", "applied", "failed"], listed
    assert "retired" in listed[made[3]["id"]]["error"]
    created = listed[made[1]["id"]]["result_ci"]
    # Every CI version names the change.
    for ci, action in ((firewall, "updated"), (created, "created"), (server, "retired")):
        last = (await api.get("cfg", f"{CMDB}/cis/{ci}/history")).json()["items"][-1]
        assert (last["action"], last["record"]) == (action, chg["number"]), last
    firewall_now = (await api.get("cfg", f"{CMDB}/cis/{firewall}")).json()
    assert firewall_now["attributes"]["location"] == "DC2"
    # The audit trail says what applied and what failed, and why.
    events = [e for e in await api.history("sam", chg["id"]) if e["action"] == "ci_changes_applied"]
    assert len(events) == 1
    # A closed change's CI changes no longer change.
    r = await api.post("sam", url, proposals[0])
    assert r.status_code == 409, r.text

    # The refused direct edits count in the configuration KPIs.
    await api.ensure("config_audit")
    r = await api.get("owner", "/api/v1/reports/kpis", params={"definition": "config_audit"})
    kpis = {k["key"]: k for k in r.json()["indicators"]}
    assert kpis["unauthorised_edits_refused"]["value"] >= 2


async def test_a_change_without_ci_changes_marks_the_cmdb_updated(api: LibraryApi) -> None:
    tag = uuid.uuid4().hex[:8]
    key = await api.publish_source(CHANGE.format(key=f"small_change_{tag}"))
    chg = await api.started("sam", key, "Nothing in the CMDB")
    rec = await api.fired("sam", chg["id"], "implement")
    assert rec["fields"]["cmdb_updated"] is True
    # A process without the effect takes no proposals.
    await api.ensure("incident")
    inc = await api.started("alice", "incident", "x", impact="3", urgency="3")
    r = await api.post("sam", f"/api/v1/processes/{inc['id']}/ci-changes", {"action": "retire", "ci": 1})
    assert r.status_code == 409 and "does not apply CI changes" in r.text, r.text
