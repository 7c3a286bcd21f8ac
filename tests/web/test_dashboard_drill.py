"""The dashboard without a browser (SQLite, and PostgreSQL with -m db): a figure links to the records
behind it, "no data" instead of 0 %, periods are days of the organisation's time zone, the trend over the
previous months, and the lists as CSV and XLSX headed in the reader's language."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import unescape
from typing import Any

import httpx
import openpyxl
import pytest_asyncio
from sqlalchemy import Engine

from api.app import create_app
from core.db import session_scope
from core.settings import Settings
from core.store import add_definition_version
from core.tables import RecordRow
from tests.paths import LIBRARY

BASE = "http://web.test"


@pytest_asyncio.fixture(loop_scope="session")
async def http(database_url: str, db_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, timezone="Asia/Shanghai"), engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def sign_in(http: httpx.AsyncClient, tokens: dict[str, str], user: str) -> None:
    r = await http.post("/ui/sign-in", data={"username": user, "token": tokens[user]})
    assert r.status_code == 303, r.text


def november(engine: Engine) -> str:
    """An incident process of its own with three November records (Shanghai days): one created at
    01:00 on 1 November in Shanghai, which is still October in UTC; one of them a major incident."""
    key = f"incident_{uuid.uuid4().hex[:8]}"
    source = (LIBRARY / "incident.yaml").read_text().replace("key: incident\n", f"key: {key}\n", 1)
    with session_scope(engine) as s:
        add_definition_version(
            s, key=key, source=source, digest=key, title_en="Drill incidents", title_zh="钻取事件", actor="t"
        )
        for n, (created, fields) in enumerate(
            (
                (datetime(2026, 10, 31, 17, tzinfo=UTC), {"major_incident": True}),
                (datetime(2026, 11, 10, 2, tzinfo=UTC), {}),
                (datetime(2026, 11, 20, 2, tzinfo=UTC), {}),
                (datetime(2026, 10, 20, 2, tzinfo=UTC), {}),  # October, in the trend only
            )
        ):
            rid = uuid.uuid4().hex[:20]
            s.add(
                RecordRow(
                    id=rid,
                    number=f"DRL-{rid[:8]}-{n}",
                    definition_key=key,
                    definition_version=1,
                    title=f"drill {n}",
                    state="new",
                    state_category="new",
                    priority="3",
                    fields=fields,
                    snapshot={},
                    created_at=created,
                    updated_at=created,
                )
            )
    return key


def kpi_link(page: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}".*?<a class="kpi-drill" href="([^"]+)"', page, re.S)
    assert match, key
    return unescape(match.group(1))


def numbers(page: str) -> list[str]:
    return re.findall(r'class="recno" href="/ui/records/([^"]+)"', page)


async def test_figures_drill_down_to_their_records_in_the_organisations_days(
    http: httpx.AsyncClient, db_engine: Engine, tokens: dict[str, str]
) -> None:
    key = november(db_engine)
    await sign_in(http, tokens, "bob")
    r = await http.get("/ui/dashboard", params={"definition": key, "from": "2026-11-01", "to": "2026-11-30"})
    assert r.status_code == 200, r.text
    page = r.text
    assert "3 records" in page and "Asia/Shanghai" in page  # 1 Nov 01:00 in Shanghai counts in November
    major = kpi_link(page, "major_incidents")
    assert "kpi=major_incidents" in major and "from=2026-11-01" in major and "to=2026-11-30" in major
    listed = await http.get(major)
    assert listed.status_code == 200 and "Records behind" in listed.text
    assert len(numbers(listed.text)) == 1 and numbers(listed.text)[0].endswith("-0")
    every = await http.get(kpi_link(page, "incidents"))
    assert sorted(n[-1] for n in numbers(every.text)) == ["0", "1", "2"]
    # A ratio without a denominator reads "no data", never 0 %.
    kpi = re.search(r'data-kpi="first_assignment_rate".*?</section>', page, re.S)
    assert kpi and "no data" in kpi.group(0) and "0.0%" not in kpi.group(0)
    # How a figure is computed, in the reader's words (English for bob) and no field keys.
    kpi = re.search(r'data-kpi="major_incidents".*?</section>', page, re.S)
    assert kpi and "<code>incidents flagged as major</code>" in kpi.group(0)
    # The trend: June to November, each figure a link to that month's records.
    heads = re.search(r'<table class="table" id="trend-table">.*?</thead>', page, re.S)
    assert heads and re.findall(r"<th scope=\"col\">(\d{4}-\d{2})</th>", heads.group(0)) == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    row = re.search(r'<tr data-kpi="incidents">.*?</tr>', page, re.S)
    assert row and [unescape(v) for v in re.findall(r">([^<>]+)</a></td>", row.group(0))][-2:] == ["1", "3"]
    empty = await http.get(
        "/ui/dashboard", params={"definition": key, "from": "2026-12-01", "to": "2026-12-31"}
    )
    kpi = re.search(r'data-kpi="incidents".*?</section>', empty.text, re.S)
    assert kpi and "no data" in kpi.group(0)


async def test_lists_download_as_csv_and_xlsx_in_the_readers_language(
    http: httpx.AsyncClient, db_engine: Engine, tokens: dict[str, str]
) -> None:
    key = november(db_engine)
    params: dict[str, Any] = {"definition": key, "from": "2026-11-01", "to": "2026-11-30"}
    await sign_in(http, tokens, "lead")  # an agent who reads Chinese
    r = await http.get("/ui/records/export.csv", params={**params, "kpi": "major_incidents"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "标题", "流程", "状态"] and len(rows) == 2
    assert rows[1][2] == "钻取事件" and rows[1][8] == "2026-11-01 01:00:00"  # Shanghai time
    r = await http.get("/ui/dashboard/export.xlsx", params=params)
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["指标", "趋势"]
    indicators = {row[0]: row[1] for row in book["指标"].iter_rows(min_row=2, values_only=True)}
    assert indicators["事件总数"] == 3 and indicators["重大事件数量"] == 1
    formulas = {row[0]: row[5] for row in book["指标"].iter_rows(min_row=2, values_only=True)}
    assert formulas["重大事件数量"] == "标记为重大事件的事件数"  # the formula in Chinese too
    page = await http.get("/ui/dashboard", params=params)
    assert "<code>标记为重大事件的事件数</code>" in page.text
    assert [c.value for c in book["趋势"][1]][-1] == "2026-11"
    await sign_in(http, tokens, "bob")
    r = await http.get("/ui/records/export.xlsx", params=params)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and [c.value for c in sheet[1]][:2] == ["Number", "Title"]
    assert sheet.max_row == 4
    r = await http.get("/ui/dashboard/export.csv", params={**params, "table": "trend"})
    assert r.status_code == 200 and "2026-11" in r.content.decode("utf-8-sig").splitlines()[0]
    r = await http.get("/ui/records", params={**params, "kpi": "no_such_indicator"})
    assert r.status_code == 422
