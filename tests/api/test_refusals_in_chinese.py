"""Every refusal kind the engine has, provoked through the API by readers of Chinese: the detail and
each error read in Chinese, with no catalogue key and no English word (tests/web/chinese_text.py).
The ScheduleConflict kind needs the change schedule's windows and is covered in Chinese by
tests/api/test_schedule*.py; every other kind is here."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from api.auth import issue_token
from api.problems import REFUSAL_STATUS
from core.db import session_scope
from core.store import upsert_user
from tests.api.conftest import MINI, Api
from tests.web.chinese_text import findings

# lead: an agent, carol: a CAB member (tests/conftest.py), both reading Chinese.
DATA = {"lead", "carol", "boss", "desk", "cab"}


ACTIONS = {"accept": "受理", "submit": "提交审批", "resolve": "解决", "wait": "等待", "resume": "恢复"}
FIELDS = {
    "risk": "风险",
    "plan": "实施计划",
    "backout_plan": "回退计划",
    "builder": "实施人",
    "resolution": "解决方案",
}


def _labelled() -> str:
    """mini.yaml with the names people read: a definition's actions and fields carry labels (the
    library's all do); without one the engine can only say the internal name."""
    source = MINI
    for trigger, zh in ACTIONS.items():
        source = source.replace(
            f"  - trigger: {trigger}\n",
            f"  - trigger: {trigger}\n    label: {{zh: {zh}, en: {trigger}}}\n",
            1,
        )
    for name, zh in FIELDS.items():
        source = re.sub(
            rf"(  - {{name: {name}, [^\n]*?)}}\n",
            lambda m, name=name, zh=zh: f"{m[1]}, label: {{zh: {zh}, en: {name}}}}}\n",  # type: ignore[misc]
            source,
            count=1,
        )
    return source


@pytest.fixture
async def labelled(api: Api) -> str:
    return await api.publish_mini(source=_labelled())


@pytest.fixture
def requester(db_engine: Engine, tokens: dict[str, str]) -> str:
    name = f"zhreq{uuid.uuid4().hex[:6]}"
    with session_scope(db_engine) as session:
        upsert_user(
            session, username=name, roles=["requester"], groups=[], language="zh", display_name="周九"
        )
        tokens[name] = issue_token(session, username=name)
    return name


def _check(r: Any, kind: str) -> None:
    body = r.json()
    status = REFUSAL_STATUS[kind]
    kinds = {f"urn:itilflow:problem:{kind.lower()}"}
    if kind == "UnknownApproval":  # the API finds no such approval before asking the engine
        kinds.add("urn:itilflow:problem:notfound")
    assert r.status_code == status and body["type"] in kinds, body
    words = [body["detail"], *(e["message"] for e in body.get("errors", []))]
    for said in words:
        assert findings(f"<p>{said}</p>", DATA) == [], f"{kind}: {said!r}"


async def test_every_refusal_kind_reads_in_chinese(api: Api, labelled: str, requester: str) -> None:
    async def new_record() -> str:
        r = await api.create(requester, labelled, title="网络中断")
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    record = await new_record()
    fire = f"/api/v1/processes/{record}/transitions"
    _check(await api.post("lead", fire, {"trigger": "zz9"}), "UnknownTrigger")
    _check(
        await api.post(requester, fire, {"trigger": "accept", "fields": {"assignee": "lead"}}), "NotAllowed"
    )
    _check(await api.post("lead", fire, {"trigger": "accept"}), "MissingFields")
    _check(await api.post("lead", fire, {"trigger": "resolve"}), "WrongState")
    bad = {"trigger": "accept", "fields": {"assignee": "lead", "risk": "高"}}
    _check(await api.post("lead", fire, bad), "InvalidFields")
    assert (
        await api.post("lead", fire, {"trigger": "accept", "fields": {"assignee": "lead"}})
    ).status_code == 200
    plan = {"plan": "更换磁盘", "backout_plan": "换回原盘", "builder": "carol"}
    _check(await api.post("lead", fire, {"trigger": "submit", "fields": {**plan, "risk": 5}}), "GuardFailed")
    r = await api.post("lead", fire, {"trigger": "submit", "fields": {**plan, "risk": 2}})
    assert r.status_code == 200 and r.json()["state"] == "approval", r.text

    # carol built it: she is out of her own inbox, and refused when she decides anyway.
    approvals = (await api.get("lead", f"/api/v1/processes/{record}")).json()["approvals"]
    decide = f"/api/v1/approvals/{approvals[0]['id']}/decision"
    _check(await api.post("carol", decide, {"decision": "approve"}), "SeparationOfDuties")
    _check(
        await api.post("carol", "/api/v1/approvals/zz9/decision", {"decision": "approve"}), "UnknownApproval"
    )

    other = await new_record()
    fire = f"/api/v1/processes/{other}/transitions"
    assert (
        await api.post("lead", fire, {"trigger": "accept", "fields": {"assignee": "lead"}})
    ).status_code == 200
    r = await api.post("lead", fire, {"trigger": "submit", "fields": {**plan, "builder": "lead", "risk": 2}})
    assert r.status_code == 200, r.text
    decide = f"/api/v1/approvals/{await _task(api, 'carol', other)}/decision"
    assert (await api.post("carol", decide, {"decision": "approve"})).status_code == 200
    _check(await api.post("carol", decide, {"decision": "approve"}), "AlreadyDecided")


async def _task(api: Api, user: str, record: str) -> str:
    inbox = (await api.get(user, "/api/v1/approvals", params={"status": "pending"})).json()
    return str(next(t["id"] for t in inbox if t["record"]["id"] == record))
