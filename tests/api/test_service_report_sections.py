"""The service report's sections (issue 21) against hand-worked data: attainment of each target per
priority, deviations with their reasons, major incidents, outages, satisfaction, trends over the
previous periods, notes; in JSON, XLSX (parsed back) and PDF (text extracted), in Chinese and English.
A 7×24 agreement in UTC keeps the arithmetic by hand simple. No Temporal needed: the rows are written
as the worker writes them."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
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
from core.tables import RecordRow
from sla.agreements import save_agreement
from sla.availability import record_outage
from sla.tables import RecordAgreementRow
from tests.unit.sla.test_agreements import spec

WEEK = (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC))


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return (
        datetime(2026, 11, day, hour, minute, tzinfo=UTC)
        if day > 0
        else datetime(2026, 10, 28, hour, tzinfo=UTC)
    )


@pytest.fixture(scope="module")
def setup(db_engine: Engine) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    key, service = f"sr-{tag}", f"mail-{tag}"
    tokens = {}
    with session_scope(db_engine) as s:
        for name, lang in ((f"srzh-{tag}", "zh"), (f"sren-{tag}", "en")):
            upsert_user(s, username=name, roles=["process_owner"], language=lang)
            tokens[lang] = issue_token(s, username=name, name="service report sections")
        save_agreement(s, key, spec(service, always=True), actor="test", now=datetime.now(UTC))
        rows = [
            # number, priority, created, responded, resolved, breached, fields
            (
                "1",
                "1",
                t(2, 10),
                t(2, 10, 10),
                t(2, 13),
                False,
                {"major_incident": True, "satisfaction": "5"},
            ),
            (
                "2",
                "1",
                t(3, 9),
                t(3, 9, 30),
                t(3, 14),
                True,
                {"resolution_notes": "Disk array firmware bug", "satisfaction": "3"},
            ),
            ("3", "2", t(4, 8), t(4, 8, 20), None, False, {}),
            ("4", "2", t(0, 9), t(0, 9, 5), t(0, 10), False, {}),  # the week before
        ]
        for n, priority, created, responded, resolved, breached, fields in rows:
            rid = uuid.uuid4().hex
            s.add(
                RecordRow(
                    id=rid,
                    number=f"SR{tag}{n}",
                    definition_key=f"incident-{tag}",
                    definition_version=1,
                    title=f"mail incident {n}",
                    state="resolved" if resolved else "in_progress",
                    state_category="resolved" if resolved else "open",
                    priority=priority,
                    breached=breached,
                    fields=fields,
                    snapshot={},
                    created_at=created,
                    updated_at=created,
                    responded_at=responded,
                    resolved_at=resolved,
                )
            )
            s.add(RecordAgreementRow(record_id=rid, agreement_key=key, agreement_version=1))
        record_outage(
            s,
            service=service,
            start=t(5, 10),
            end=t(5, 12),
            planned=False,
            actor="test",
            now=datetime.now(UTC),
        )
    return {"key": key, "tag": tag, "tokens": tokens}


@pytest_asyncio.fixture(loop_scope="session")
async def http(database_url: str, db_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url), engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        yield c


def params() -> dict[str, str]:
    return {"start": WEEK[0].isoformat(), "end": WEEK[1].isoformat()}


async def test_sections_against_hand_worked_figures(http: httpx.AsyncClient, setup: dict[str, Any]) -> None:
    key, tag, tokens = setup["key"], setup["tag"], setup["tokens"]
    r = await http.get(
        f"/api/v1/sla/agreements/{key}/report",
        params=params(),
        headers={"Authorization": f"Bearer {tokens['en']}"},
    )
    assert r.status_code == 200, r.text
    sec = r.json()["sections"]
    got = {
        (a["indicator"], a["priority"]): (a["measured"], a["within_target"], a["percent"])
        for a in sec["attainment"]
    }
    # P1 response: 10 min (within 15) and 30 min (over) -> 1 of 2; P2: 20 min within 30.
    assert got[("response", "1")] == (2, 1, 50.0) and got[("response", "2")] == (1, 1, 100.0)
    # P1 resolution: 180 min within 240, 300 min over; P2 unresolved: nothing measured, no data (not 0 %).
    assert got[("resolution", "1")] == (2, 1, 50.0) and got[("resolution", "2")] == (0, 0, None)
    assert [(d["number"], d["reason"]) for d in sec["deviations"]] == [
        (f"SR{tag}2", "Disk array firmware bug")
    ]
    assert sec["deviations_total"] == 1
    assert {m["number"] for m in sec["major_incidents"]} == {f"SR{tag}1", f"SR{tag}2"}
    assert sec["major_incidents_total"] == 2
    assert [(o["planned"], o["start"][:16]) for o in sec["outages"]] == [(False, "2026-11-05T10:00")]
    assert sec["satisfaction"] == {"answers": 2, "mean": 4.0, "distribution": {"3": 1, "5": 1}}
    trends = sec["trends"]
    assert len(trends) == 6 and trends[-1]["start"].startswith("2026-11-02")
    assert (trends[-1]["records"], trends[-1]["breached"], trends[-1]["interruptions"]) == (3, 1, 1)
    # 168 h committed, 2 h out: 166 / 168.
    assert trends[-1]["availability_percent"] == round(100 * 166 / 168, 4)
    assert (trends[-2]["records"], trends[-2]["breached"]) == (1, 0)
    assert any("improvement" in n for n in sec["notes"])


async def test_the_spreadsheet_and_the_pdf_carry_the_sections_in_chinese(
    http: httpx.AsyncClient, setup: dict[str, Any]
) -> None:
    key, tag, tokens = setup["key"], setup["tag"], setup["tokens"]
    auth = {"Authorization": f"Bearer {tokens['zh']}"}
    r = await http.get(f"/api/v1/sla/agreements/{key}/report.xlsx", params=params(), headers=auth)
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    deviations = next(name for name in book.sheetnames if name.startswith("偏差"))
    rows = list(book[deviations].iter_rows(values_only=True))
    assert (
        rows[0][:3] == ("编号", "标题", "优先级")
        and rows[1][0] == f"SR{tag}2"
        and rows[1][-1] == "Disk array firmware bug"
    )
    attainment = list(book["服务级别达成"].iter_rows(values_only=True))
    assert ("解决", "2", 0, 0, "无数据") == attainment[-1][:5]
    r = await http.get(f"/api/v1/sla/agreements/{key}/report.pdf", params=params(), headers=auth)
    assert r.status_code == 200
    pages = pypdf.PdfReader(io.BytesIO(r.content)).pages
    text = "".join(page.extract_text() for page in pages).replace("\x00", "")  # CID font: NULs between
    for words in ("服务级别达成", "偏差", "重大事件", "客户满意度", "趋势", f"SR{tag}2"):
        assert words in text, words
