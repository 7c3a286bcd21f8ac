"""Every list of the web page downloads as CSV and XLSX (issue 21), headed in the reader's language:
the CMDB search (a column per attribute of the chosen class, values in words), the agreements in force
and the schedules of records."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl
from sqlalchemy import Engine

from api.identity import audit
from cmdb import cis, models
from core.db import session_scope
from tests.api.test_schedule import BASE, seed_change
from tests.web.test_agreement_pages import _agreement
from tests.web.test_dashboard_drill import http, sign_in  # noqa: F401 - the app behind an ASGI client


def _servers(engine: Engine, prefix: str) -> None:
    with session_scope(engine) as session:
        for n, virtual in ((1, True), (2, False)):
            name = f"{prefix}-{n}"
            cis.create(
                session,
                model=models.current(session),
                class_name="server",
                name=name,
                attributes={"hostname": name, "os": "Kylin V10", "cpu_cores": 8 * n, "virtual": virtual},
                actor="t",
            )


async def test_the_cmdb_search_downloads_with_a_column_per_attribute(
    http: httpx.AsyncClient,  # noqa: F811
    db_engine: Engine,
    tokens: dict[str, str],
) -> None:
    prefix = f"exp-{uuid.uuid4().hex[:8]}"
    _servers(db_engine, prefix)
    await sign_in(http, tokens, "lead")  # reads Chinese
    page = await http.get("/ui/cmdb", params={"q": prefix, "class": "server"})
    assert f"/ui/cmdb/export.csv?q={prefix}&amp;class=server&amp;status=active" in page.text
    r = await http.get("/ui/cmdb/export.csv", params={"q": prefix, "class": "server"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["名称", "类别", "状态", "最近变更"] and "主机名" in rows[0] and "虚拟机" in rows[0]
    assert sorted(row[0] for row in rows[1:]) == [f"{prefix}-1", f"{prefix}-2"]
    first = next(row for row in rows[1:] if row[0] == f"{prefix}-1")
    assert first[1] == "服务器" and first[2] == "在用" and first[rows[0].index("虚拟机")] == "是"
    assert first[rows[0].index("CPU 核数")] == "8"

    await sign_in(http, tokens, "bob")  # reads English
    r = await http.get("/ui/cmdb/export.xlsx", params={"q": prefix})
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and [c.value for c in sheet[1]] == ["Name", "Class", "Status", "Last changed"]
    assert sheet.max_row == 3
    r = await http.get("/ui/cmdb/export.pdf", params={"q": prefix})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


async def test_the_agreements_and_the_schedules_download(
    http: httpx.AsyncClient,  # noqa: F811
    db_engine: Engine,
    tokens: dict[str, str],
) -> None:
    tag = uuid.uuid4().hex[:6]
    key, service, _ci, _change = _agreement(db_engine, tag)
    await sign_in(http, tokens, "lead")
    page = await http.get("/ui/agreements")
    assert 'href="/ui/agreements/export.xlsx"' in page.text
    r = await http.get("/ui/agreements/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet.title == "服务级别协议"
    heads = [c.value for c in sheet[1]]
    assert heads[:2] == ["协议", "服务"]
    mine = next(
        row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == f"邮件服务协议 {tag}"
    )
    assert mine[1] == service and mine[5] == 99.9 and mine[6] == 2
    r = await http.get("/ui/record-schedules/export.csv")
    assert r.status_code == 403  # the schedules are the process owners'
    await sign_in(http, tokens, "owner")
    r = await http.get("/ui/record-schedules/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[:2] in (
        ["Name", "Process"],
        ["名称", "流程"],
    )


async def test_the_change_schedule_downloads_its_changes_and_windows(
    http: httpx.AsyncClient,  # noqa: F811
    db_engine: Engine,
    tokens: dict[str, str],
) -> None:
    number = f"X{uuid.uuid4().hex[:6]}"
    seed_change(db_engine, number, 10, 12, [], "bob", "alice")
    day = (BASE + timedelta(hours=10)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    await sign_in(http, tokens, "lead")
    params = {"view": "list", "day": str(day)}
    page = await http.get("/ui/schedule", params=params)
    assert f"/ui/schedule/export.xlsx?view=list&amp;day={day}" in page.text
    r = await http.get("/ui/schedule/export.xlsx", params=params)
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["计划中的变更", "封网与维护窗口"]
    rows = list(book["计划中的变更"].iter_rows(values_only=True))
    assert rows[0][:3] == ("记录", "标题", "状态")
    mine = next(row for row in rows[1:] if row[0] == number)
    start = (BASE + timedelta(hours=10)).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert mine[1] == f"change {number}" and mine[3] == start and mine[5] == "bob"
    r = await http.get("/ui/schedule/export.csv", params={**params, "table": "windows"})
    assert r.status_code == 200
    assert next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[:2] == ["名称", "类型"]


async def test_the_admin_audit_trail_downloads_for_auditors(
    http: httpx.AsyncClient,  # noqa: F811
    db_engine: Engine,
    tokens: dict[str, str],
) -> None:
    actor = f"adm-{uuid.uuid4().hex[:6]}"
    with session_scope(db_engine) as session:
        audit.record(session, actor=actor, action="role.granted", target="bob", role="auditor")
    await sign_in(http, tokens, "lead")
    assert (await http.get("/ui/admin/audit/export.csv", params={"actor": actor})).status_code == 403
    await sign_in(http, tokens, "root")
    page = await http.get("/ui/admin/audit", params={"actor": actor})
    assert f"/ui/admin/audit/export.xlsx?actor={actor}" in page.text
    r = await http.get("/ui/admin/audit/export.csv", params={"actor": actor})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["When", "Who", "Action", "On", "Details"]
    assert rows[1][1:4] == [actor, "Role granted", "bob"] and "auditor" in rows[1][4]
    assert len(rows) == 2


async def test_the_users_and_their_roles_download_for_an_access_review(
    http: httpx.AsyncClient,  # noqa: F811
    tokens: dict[str, str],
) -> None:
    await sign_in(http, tokens, "root")
    page = await http.get("/ui/admin")
    assert 'href="/ui/admin/users/export.xlsx"' in page.text
    r = await http.get("/ui/admin/users/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    heads = [c.value for c in sheet[1]]
    assert heads[:3] == ["Username", "Name shown", "Roles"] and heads[-2:] == ["Status", "Last signed in"]
    carol = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "carol")
    assert carol[2] == "approver" and "cab" in str(carol[3]).split(", ") and carol[5] == "active"
    await sign_in(http, tokens, "lead")
    assert (await http.get("/ui/admin/users/export.csv")).status_code == 403
