"""Attachments and checklists through the API (issue 20), on a real worker and Temporal server: upload
(multipart), list, download; the audit trail says who added what and when; a transition needing a kind
of attachment is refused by the kind's label until one is attached; over the limit, a refused type, an
unknown kind, a checklist answer for an item that does not exist: each a clear error, nothing written;
the record's visibility governs reading."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings
from tests.api.conftest import Api

pytestmark = pytest.mark.db

SOURCE = """
key: KEY
title: {zh: 应急演练, en: Drill}
number_prefix: DRL
owner: process_owner
attachment_kinds:
  drill_report: {zh: 演练报告, en: Drill report}
fields:
  - name: checks
    type: checklist
    label: {zh: 检查单, en: Checklist}
    items:
      - {key: failover, label: {zh: 切换成功, en: Failover worked}, expected: {zh: 五分钟内, en: Within 5 minutes}}
      - {key: data, label: {zh: 数据一致, en: Data consistent}, expected: {zh: 无差异, en: No difference}}
states:
  - {name: running, category: open, label: {zh: 演练中, en: Running}}
  - {name: done, category: closed, final: true, label: {zh: 已完成, en: Done}}
transitions:
  - trigger: finish
    from: running
    to: done
    label: {zh: 完成演练, en: Finish the drill}
    allowed: {roles: [agent]}
    requires_attachment: [drill_report]
    required_fields: [checks]
    guard: {field: checks.unanswered, op: eq, value: 0}
    guard_message: {zh: 检查单须全部作答, en: every checklist item must be answered}
"""
LIMIT = 64 * 1024


@pytest_asyncio.fixture(loop_scope="session")
async def files_api(
    database_url: str,
    task_queue: str,
    temporal_address: str,
    temporal_client: Client,
    db_engine: Engine,
    tokens: dict[str, str],
    worker: object,
    tmp_path: Path,
) -> AsyncIterator[Api]:
    settings = Settings(
        database_url=database_url,
        task_queue=task_queue,
        temporal_address=temporal_address,
        attachment_dir=tmp_path / "files",
        attachment_max_bytes=LIMIT,
    )
    app = create_app(settings, client=temporal_client, engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        yield Api(http, tokens)


async def drill(api: Api) -> str:
    key = f"drill_{uuid.uuid4().hex[:8]}"
    r = await api.http.post(
        "/api/v1/definitions",
        content=SOURCE.replace("key: KEY", f"key: {key}"),
        headers={**api.headers("owner"), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    r = await api.post("owner", f"/api/v1/definitions/{key}/versions/{r.json()['version']}/publish")
    assert r.status_code == 200, r.text
    r = await api.post("bob", "/api/v1/processes", {"definition": key, "title": "DR drill Q3"})
    assert r.status_code == 201, r.text
    return str(r.json()["number"])


def stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".staging" not in p.parts]


async def upload(
    api: Api, user: str, number: str, name: str, data: bytes, kind: str | None = None
) -> httpx.Response:
    return await api.http.post(
        f"/api/v1/processes/{number}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        data={"kind": kind} if kind else {},
        headers=api.headers(user),
    )


async def test_upload_list_download_and_the_transition_it_unlocks(files_api: Api, tmp_path: Path) -> None:
    api = files_api
    number = await drill(api)
    r = await api.post(
        "lead",
        f"/api/v1/processes/{number}/transitions",
        {"trigger": "finish", "fields": {"checks": {"failover": "pass", "data": "pass"}}},
    )
    assert r.status_code == 422, r.text  # lead reads Chinese: the kind by its label
    assert r.json()["detail"] == "执行“完成演练”前须先上传附件：演练报告"
    assert r.json()["errors"][0]["path"] == "attachments.drill_report"

    data = b"%PDF-1.4\n\x00binary\xff" * 100
    r = await upload(api, "bob", number, "报告.pdf", data, kind="drill_report")
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["sha256"] == hashlib.sha256(data).hexdigest() and out["size"] == len(data)
    assert (
        out["added_by"] == "bob"
        and out["kind"] == "drill_report"
        and out["content_type"] == "application/pdf"
    )
    assert stored(tmp_path / "files") == [
        tmp_path / "files" / out["sha256"][:2] / out["sha256"][2:4] / out["sha256"]
    ]

    listed = (await api.get("bob", f"/api/v1/processes/{number}/attachments")).json()
    assert [(a["id"], a["filename"], a["added_by"]) for a in listed] == [(out["id"], "报告.pdf", "bob")]
    history = (await api.get("bob", f"/api/v1/processes/{number}/history")).json()
    event = next(e for e in history if e["action"] == "attachment_added")
    assert event["actor"] == "bob" and event["details"]["filename"] == "报告.pdf"

    r = await api.get("bob", f"/api/v1/processes/{number}/attachments/{out['id']}")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"
    assert r.headers["x-content-type-options"] == "nosniff"

    # visibility: a requester who is no participant sees neither the list nor the file
    assert (await api.get("alice", f"/api/v1/processes/{number}/attachments")).status_code == 404
    assert (await api.get("alice", f"/api/v1/processes/{number}/attachments/{out['id']}")).status_code == 404
    assert (await upload(api, "alice", number, "x.txt", b"x")).status_code == 404

    r = await api.post("bob", f"/api/v1/processes/{number}/transitions", {"trigger": "finish"})
    assert r.status_code == 409 and "every checklist item must be answered" in r.json()["detail"]
    r = await api.post(
        "bob",
        f"/api/v1/processes/{number}/transitions",
        {
            "trigger": "finish",
            "fields": {
                "checks": {"failover": "pass", "data": {"result": "n/a", "note": "read-only replica"}}
            },
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "done"
    assert r.json()["fields"]["checks"]["data"] == {"result": "n/a", "note": "read-only replica"}


async def test_bad_uploads_and_answers_write_nothing(files_api: Api, tmp_path: Path) -> None:
    api = files_api
    number = await drill(api)
    before = len((await api.get("bob", f"/api/v1/processes/{number}/history")).json())

    r = await upload(api, "bob", number, "big.pdf", b"x" * (LIMIT + 1))
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = await upload(api, "lead", number, "tool.exe", b"MZ")
    assert r.status_code == 415 and r.json()["detail"].startswith("不接受此类型的文件：tool.exe")
    r = await upload(api, "bob", number, "plan.pdf", b"plan", kind="floor_plan")
    assert r.status_code == 422 and "floor_plan" in r.json()["detail"], r.text
    r = await api.patch("lead", f"/api/v1/processes/{number}", {"fields": {"checks": {"cpu": "pass"}}})
    assert r.status_code == 422 and "检查单中没有此项：cpu" in r.json()["detail"], r.text
    r = await api.patch("bob", f"/api/v1/processes/{number}", {"fields": {"checks": {"data": "fail"}}})
    assert r.status_code == 422 and "needs a note" in r.json()["detail"], r.text

    assert len((await api.get("bob", f"/api/v1/processes/{number}/history")).json()) == before
    assert (await api.get("bob", f"/api/v1/processes/{number}/attachments")).json() == []
    assert stored(tmp_path / "files") == []
    assert list((tmp_path / "files" / ".staging").iterdir()) == []
