"""Agreements, outages and availability over HTTP against the real app and database (SQLite, and
PostgreSQL with -m db): refusals in the caller's language naming the field, roles checked on the server,
figures against hand-worked data. No Temporal needed."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openpyxl
import pypdf
import pytest
import pytest_asyncio
from sqlalchemy import Engine

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from tests.unit.sla.test_agreements import spec


@pytest.fixture(scope="module")
def sla_tokens(db_engine: Engine) -> dict[str, str]:
    out = {}
    with session_scope(db_engine) as session:
        for name, roles, lang in (
            ("slm", ["process_owner"], "en"),
            ("slmzh", ["process_owner"], "zh"),
            ("agent1", ["agent"], "en"),
            ("req", ["requester"], "en"),
        ):
            upsert_user(session, username=name, roles=roles, language=lang)
            out[name] = issue_token(session, username=name, name="sla tests")
    return out


@pytest_asyncio.fixture(loop_scope="session")
async def http(database_url: str, db_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url), engine=db_engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        yield client


def h(tokens: dict[str, str], user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[user]}"}


async def test_agreements_outages_and_availability_over_http(
    http: httpx.AsyncClient, sla_tokens: dict[str, str]
) -> None:
    key, service = f"bh-{uuid.uuid4().hex[:8]}", f"erp-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"spec": spec(service)}
    r = await http.put(f"/api/v1/sla/agreements/{key}", json=body, headers=h(sla_tokens, "req"))
    assert r.status_code == 403
    bad = spec(service)
    del bad["targets"]["2"]
    r = await http.put(f"/api/v1/sla/agreements/{key}", json={"spec": bad}, headers=h(sla_tokens, "slmzh"))
    assert r.status_code == 422 and "优先级 2" in r.json()["detail"]
    assert r.json()["errors"][0]["path"] == "targets.2"
    r = await http.put(f"/api/v1/sla/agreements/{key}", json=body, headers=h(sla_tokens, "slm"))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    r = await http.put(f"/api/v1/sla/agreements/{key}-2", json=body, headers=h(sla_tokens, "slm"))
    assert r.status_code == 409 and r.json()["errors"][0]["path"] == "service"
    r = await http.put(f"/api/v1/sla/agreements/{key}", json=body, headers=h(sla_tokens, "slm"))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "change_ref"
    for start, end in (
        ("2026-11-02T10:00:00Z", "2026-11-02T12:00:00Z"),
        ("2026-11-03T17:00:00Z", "2026-11-03T20:00:00Z"),
    ):
        r = await http.post(
            "/api/v1/sla/outages",
            json={"service": service, "start": start, "end": end},
            headers=h(sla_tokens, "agent1"),
        )
        assert r.status_code == 201, r.text
    r = await http.post(
        "/api/v1/sla/outages",
        json={"service": service, "start": "2026-11-03T20:00:00Z", "end": "2026-11-03T17:00:00Z"},
        headers=h(sla_tokens, "agent1"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "end"
    r = await http.post(
        "/api/v1/sla/outages",
        json={"service": service, "incident": "NO-SUCH-1"},
        headers=h(sla_tokens, "agent1"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "incident"
    r = await http.get(
        f"/api/v1/sla/agreements/{key}/availability",
        params={"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"},
        headers=h(sla_tokens, "agent1"),
    )
    assert r.status_code == 200, r.text
    # 45 h of service hours, 3 h of them unavailable: 42/45; two interruptions, MTBF 21 h.
    figures = r.json()
    assert figures["committed_hours"] == 45 and figures["unavailable_hours"] == 3
    assert figures["availability_percent"] == 93.3333 and figures["mtbf_hours"] == 21.0
    assert figures["met"] is False
    r = await http.get(
        f"/api/v1/sla/agreements/{key}/availability",
        params={"start": "2026-11-09T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
        headers=h(sla_tokens, "agent1"),
    )
    assert r.status_code == 422
    r = await http.get(
        f"/api/v1/sla/agreements/{key}/report",
        params={"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"},
        headers=h(sla_tokens, "agent1"),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["title"]["zh"] and report["availability"]["availability_percent"] == 93.3333
    assert report["priorities"] == []  # no record ran on this agreement
    r = await http.get(
        f"/api/v1/sla/agreements/{key}/report",
        params={"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"},
        headers=h(sla_tokens, "req"),
    )
    assert r.status_code == 403
    r = await http.get(
        f"/api/v1/sla/agreements/{key}/report.xlsx",
        params={"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"},
        headers=h(sla_tokens, "slmzh"),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    book = openpyxl.load_workbook(io.BytesIO(r.content))  # parsed back: the figures, headed in Chinese
    assert book.sheetnames[:2] == ["可用性", "记录"]
    assert {"服务级别达成", "可用性与连续性", "客户满意度", "趋势", "流程关键指标"} <= set(book.sheetnames)
    values = {row[0]: row[1] for row in book["可用性"].iter_rows(min_row=3, values_only=True)}
    assert values["承诺服务时间（小时）"] == 45 and values["不可用时间（小时）"] == 3
    assert values["可用率（%）"] == 93.3333 and values["中断次数"] == 2 and values["是否达标"] == "否"
    for user, words in (
        ("slmzh", ("服务报告", "可用率（%）93.3333", "中断次数2")),
        ("slm", ("Servicereport", "MTBF(h)21.0")),
    ):
        r = await http.get(
            f"/api/v1/sla/agreements/{key}/report.pdf",
            params={"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"},
            headers=h(sla_tokens, user),
        )
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        page = pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text()  # parsed back
        text = "".join(page.replace("\x00", "").split())
        for expected in words:
            assert expected in text, text
    r = await http.get(f"/api/v1/sla/agreements/{key}/versions", headers=h(sla_tokens, "req"))
    assert r.status_code == 403
    r = await http.get(f"/api/v1/sla/agreements/{key}/versions", headers=h(sla_tokens, "agent1"))
    assert [v["version"] for v in r.json()] == [1]
