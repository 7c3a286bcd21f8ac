"""Records that act on linked records (issue 20), on the real Temporal dev server: a transition's
`act_on_linked` effect fires a transition on each record a reference field names, through that record's
own workflow and rules; a refusal by its rules, and a loop (A acts on B, whose effect acts on A), are
refused and recorded on the acting record in English and Chinese; counters count along the way."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import Api

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.db]

PARENT = """
key: mini
title: {{zh: 问题, en: Problem}}
number_prefix: PAR
owner: process_owner
fields:
  - {{name: children, type: list, item_type: reference, reference: {child}, label: {{zh: 关联事件, en: Linked incidents}}}}
counters:
  - {{name: fixes, label: {{zh: 修复次数, en: Fixes}}}}
states:
  - {{name: open, category: open}}
  - {{name: done, category: resolved}}
  - {{name: closed, category: closed, final: true}}
transitions:
  - {{trigger: close, from: done, to: closed, allowed: {{roles: [agent]}}}}
  - trigger: finish
    from: open
    to: done
    allowed: {{roles: [agent]}}
    effects:
      - increment: fixes
      - act_on_linked: {{field: children, trigger: wake, comment: "The problem behind it is fixed"}}
"""
CHILD = """
key: mini
title: {{zh: 事件, en: Incident}}
number_prefix: CHI
owner: process_owner
fields:
  - {{name: parent, type: reference, reference: {parent}}}
states:
  - {{name: waiting, category: waiting, label: {{zh: 等待问题解决, en: Awaiting problem}}}}
  - {{name: working, category: open}}
  - {{name: closed, category: closed, final: true}}
transitions:
  - {{trigger: close, from: working, to: closed, allowed: {{roles: [agent]}}}}
  - trigger: wake
    from: waiting
    to: working
    allowed: {{roles: [agent]}}
    effects:
      - act_on_linked: {{field: parent, trigger: finish}}
  - {{trigger: start, from: waiting, to: working, allowed: {{roles: [agent]}}}}
"""


async def _history(api: Api, ref: str) -> list[dict[str, object]]:
    r = await api.get("root", f"/api/v1/processes/{ref}/history")
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_a_transition_moves_its_linked_records_through_their_own_rules(api: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    parent_key, child_key = f"par_{tag}", f"chi_{tag}"
    await api.publish_mini(child_key, CHILD.format(parent=parent_key))
    await api.publish_mini(parent_key, PARENT.format(child=child_key))

    async def child(title: str) -> dict[str, object]:
        r = await api.post(
            "bob", "/api/v1/processes", {"definition": child_key, "title": title, "fields": {}}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    waiting, working = await child("waiting"), await child("already working")
    r = await api.post("bob", f"/api/v1/processes/{working['id']}/transitions", {"trigger": "start"})
    assert r.status_code == 200, r.text
    body = {
        "definition": parent_key,
        "title": "root cause",
        "fields": {"children": [waiting["id"], working["id"]]},
    }
    parent = (await api.post("bob", "/api/v1/processes", body)).json()
    for c in (waiting, working):
        r = await api.patch("bob", f"/api/v1/processes/{c['id']}", {"fields": {"parent": parent["id"]}})
        assert r.status_code == 200, r.text

    r = await api.post("bob", f"/api/v1/processes/{parent['id']}/transitions", {"trigger": "finish"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "done" and r.json()["fields"]["fixes"] == 1

    # The waiting record moved through its own workflow, as the linked action of the parent.
    moved = (await api.get("root", f"/api/v1/processes/{waiting['id']}")).json()
    assert moved["state"] == "working"
    history = await _history(api, waiting["id"])
    move = next(h for h in history if h["action"] == "transition")
    assert move["actor"] == f"system:link:{parent['number']}"
    # Its own effect tried to act back on the parent: a loop, refused and recorded on it.
    back = next(h for h in history if h["action"] == "linked_action")
    assert back["details"]["outcome"] == "refused" and back["details"]["kind"] == "Loop"
    assert "loop" in back["details"]["reason_en"] and "循环" in back["details"]["reason_zh"]

    # On the parent: one entry per linked record, the refusal in the linked record's words.
    entries = {
        h["details"]["number"]: h["details"]
        for h in await _history(api, parent["id"])
        if h["action"] == "linked_action"
    }
    assert (
        entries[waiting["number"]]["outcome"] == "moved" and entries[waiting["number"]]["state"] == "working"
    )
    refused = entries[working["number"]]
    assert (refused["outcome"], refused["kind"]) == ("refused", "WrongState")
    assert refused["reason_en"] and "状态" in refused["reason_zh"]
    # Nothing changed on the record that refused.
    assert (await api.get("root", f"/api/v1/processes/{working['id']}")).json()["state"] == "working"

    # The record page tells it in the reader's words.
    r = await api.http.post("/ui/sign-in", data={"username": "root", "token": api.tokens["root"]})
    assert r.status_code == 303, r.text
    page = await api.http.get(f"/ui/lang/zh?next=/ui/records/{parent['number']}", follow_redirects=True)
    assert page.status_code == 200
    assert (
        f"推进了关联记录 {waiting['number']}" in page.text
        and f"未能推进关联记录 {working['number']}" in page.text
    )
    assert "修复次数" in page.text  # the counter, by its label
    page = await api.http.get(f"/ui/records/{waiting['number']}")
    assert "系统（关联记录）" in page.text and "循环" in page.text
