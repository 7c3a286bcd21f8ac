"""A definition's `visibility:` on a real server: its records are seen by participants and by the
roles and groups it names, and by nobody else — the record, the list and search, the history,
actions, the approvals inbox (delegations too) and the key indicators; the rest gets 404.

Every test makes its own users and group (a fresh suffix) and publishes its own definition key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from api.auth import issue_token
from core.db import session_scope
from core.store import upsert_user
from tests.api.conftest import MINI, Api

BOARD = "      - name: board\n        approvers: {groups: [cab]}\n        policy: quorum\n        quorum: 2\n"


def _people(api: Api, db_engine: Engine) -> dict[str, str]:
    sfx = uuid.uuid4().hex[:6]
    soc = f"soc{sfx}"
    people = {
        "soc": soc,
        "analyst": f"ana{sfx}",  # an agent in the named group: sees and acts
        "agent": f"agt{sfx}",  # an agent outside it
        "admin": f"adm{sfx}",  # an admin outside it
        "auditor": f"aud{sfx}",  # the named role auditor: reads, never acts
        "approver": f"apv{sfx}",
        "requester": f"req{sfx}",
        "substitute": f"sub{sfx}",
    }
    roles = {
        "analyst": ["agent"],
        "agent": ["agent"],
        "admin": ["admin"],
        "auditor": ["auditor"],
        "approver": ["approver"],
        "requester": ["requester"],
        "substitute": ["approver"],
    }
    with session_scope(db_engine) as session:
        for who, user_roles in roles.items():
            name = people[who]
            groups = [soc] if who == "analyst" else []
            upsert_user(session, username=name, roles=user_roles, groups=groups, language="en")
            api.tokens[name] = issue_token(session, username=name)
    return people


async def _restricted(api: Api, p: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """A restricted copy of mini (one approval level: the approver alone), and a record in approval."""
    assert BOARD in MINI
    source = (
        MINI.replace(BOARD, "").replace(
            "approvers: {users: [boss]}", f"approvers: {{users: [{p['approver']}]}}"
        )
        + f"visibility:\n  roles: [auditor]\n  groups: [{p['soc']}]\n"
    )
    key = await api.publish_mini(source=source)
    r = await api.create(p["requester"], key, title="Leaked credentials")
    assert r.status_code == 201, r.text
    rec = r.json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    r = await api.post(p["agent"], url, {"trigger": "accept", "fields": {"assignee": p["agent"]}})
    assert r.status_code == 404  # an agent outside the named group cannot even find it
    r = await api.post(p["analyst"], url, {"trigger": "accept", "fields": {"assignee": p["analyst"]}})
    assert r.status_code == 200, r.text
    fields = {"plan": "rotate keys", "backout_plan": "none", "risk": 2}
    r = await api.post(p["analyst"], url, {"trigger": "submit", "fields": fields})
    assert r.status_code == 200 and r.json()["state"] == "approval", r.text
    return key, r.json()


async def test_records_list_search_and_history_respect_visibility(api: Api, db_engine: Engine) -> None:
    p = _people(api, db_engine)
    key, rec = await _restricted(api, p)
    url = f"/api/v1/processes/{rec['id']}"
    seeing = ("requester", "analyst", "auditor", "approver")
    for who in seeing:
        assert (await api.get(p[who], url)).status_code == 200, who
        assert (await api.get(p[who], f"/api/v1/processes/{rec['number']}")).status_code == 200, who
        assert (await api.get(p[who], f"{url}/history")).status_code == 200, who
    for who in ("agent", "admin", "substitute"):
        r = await api.get(p[who], url)
        assert r.status_code == 404 and rec["id"] in r.json()["detail"], who
        assert (await api.get(p[who], f"/api/v1/processes/{rec['number']}")).status_code == 404, who
        assert (await api.get(p[who], f"{url}/history")).status_code == 404, who
    # Lists and search: the same people find it, staff outside do not (the unrestricted rule would
    # have shown it to every agent and admin).
    for who, expected in (("analyst", 1), ("auditor", 1), ("requester", 1), ("agent", 0), ("admin", 0)):
        for params in (
            {"definition": key},
            {"q": "Leaked credentials", "definition": key},
            {"q": rec["number"]},
        ):
            items = (await api.get(p[who], "/api/v1/processes", params=params)).json()["items"]
            assert [i["id"] for i in items] == [rec["id"]] * expected, (who, params)
    # Acting: outsiders get 404; the auditor reads but does not act; the named group acts.
    comment = {"body": "looking"}
    for who in ("agent", "admin", "auditor"):
        assert (await api.post(p[who], f"{url}/comments", comment)).status_code == 404, who
    assert (await api.post(p["analyst"], f"{url}/comments", comment)).status_code in (200, 201)
    r = await api.patch(p["admin"], url, {"fields": {"plan": "x"}})
    assert r.status_code == 404


async def test_the_inbox_and_delegations_respect_visibility(api: Api, db_engine: Engine) -> None:
    p = _people(api, db_engine)
    _key, rec = await _restricted(api, p)
    [task] = (await api.get(p["approver"], "/api/v1/approvals")).json()
    assert task["record"]["id"] == rec["id"]
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    # The approver names a substitute who may not see the record: the task does not reach them, and
    # deciding it for the approver answers like a record that does not exist.
    r = await api.post(
        p["approver"], "/api/v1/delegations", {"substitute": p["substitute"], "ends_at": until}
    )
    assert r.status_code == 201
    assert (await api.get(p["substitute"], "/api/v1/approvals")).json() == []
    decide = f"/api/v1/approvals/{task['id']}/decision"
    r = await api.post(p["substitute"], decide, {"decision": "approve", "on_behalf_of": p["approver"]})
    assert r.status_code == 404 and rec["number"] not in r.json()["detail"]
    # A substitute the definition lets see (the named group) gets it and decides.
    r = await api.post(p["approver"], "/api/v1/delegations", {"substitute": p["analyst"], "ends_at": until})
    assert r.status_code == 201
    inbox = (await api.get(p["analyst"], "/api/v1/approvals")).json()
    assert [(t["id"], t["on_behalf_of"]) for t in inbox] == [(task["id"], p["approver"])]
    r = await api.post(p["analyst"], decide, {"decision": "approve", "on_behalf_of": p["approver"]})
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text


async def test_indicators_of_a_restricted_process_are_hidden_from_outsiders(
    api: Api, db_engine: Engine
) -> None:
    p = _people(api, db_engine)
    key, _rec = await _restricted(api, p)
    r = await api.get(p["admin"], "/api/v1/reports/kpis", params={"definition": key})
    assert r.status_code == 404 and key in r.json()["detail"]
    r = await api.get(p["agent"], "/api/v1/reports/kpis", params={"definition": key})
    assert r.status_code == 404
    r = await api.get(p["analyst"], "/api/v1/reports/kpis", params={"definition": key})
    assert r.status_code == 200 and r.json()["records"] == 1
    # Across every process (service level), the restricted process is left out for outsiders.
    r = await api.get(p["admin"], "/api/v1/reports/kpis", params={"definition": "service_level"})
    assert r.status_code == 200
    breakdown = next(k for k in r.json()["indicators"] if k["key"] == "sla_attainment")["breakdown"] or {}
    assert key not in breakdown
    # A cross-process set naming the restricted process as its incidents is refused the same way.
    open_key = await api.publish_mini()
    params = {"definition": open_key, "kind": "change", "incidents": key}
    r = await api.get(p["admin"], "/api/v1/reports/kpis", params=params)
    assert r.status_code == 404 and key in r.json()["detail"]
    r = await api.get(p["admin"], "/api/v1/reports/kpis", params={**params, "incidents": open_key})
    assert r.status_code == 200
