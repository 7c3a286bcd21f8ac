"""The agreements' pages in Chromium (issue 21): the list and one agreement with its targets per
priority, OLAs, service hours, versions and this month's availability, in English and Chinese; the nav
links them for the roles that read service figures and a requester is refused; a record's SLA panel
names the agreement and the target each clock runs on — on the real app, Temporal server and database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from playwright.async_api import Page, expect
from sqlalchemy import Engine

from cmdb import cis, models
from core.db import session_scope
from core.tables import RecordRow
from sla.agreements import save_agreement
from sla.availability import record_outage
from tests.paths import ROOT
from tests.unit.sla.test_agreements import spec
from tests.web.conftest import Site, screenshot, sign_in

INCIDENT = (ROOT / "definitions" / "library" / "incident.yaml").read_text(encoding="utf-8")
OLAS = {"service_desk": {"response_minutes": 10, "resolution_minutes": 90}}


def _agreement(db_engine: Engine, tag: str) -> tuple[str, str, int, str]:
    """An agreement on a business service, changed once under an approved change, with an outage an hour
    long earlier today (written straight into the database: the API's own tests cover its writes)."""
    key, service = f"mail-{tag}", f"邮件-{tag}"
    now = datetime.now(UTC)
    with session_scope(db_engine) as s:
        ci = cis.create(
            s,
            model=models.current(s),
            class_name="business_service",
            name=service,
            attributes={"owner": "lee", "criticality": "high"},
            actor="cfg",
        )
        assert ci.id
        data = spec(service, always=True, olas=OLAS)
        data["title"] = {"zh": f"邮件服务协议 {tag}", "en": f"Mail service agreement {tag}"}
        save_agreement(s, key, data, actor="owner", now=now)
        change = f"CHG-{tag}"
        s.add(
            RecordRow(
                id=uuid.uuid4().hex[:20],
                number=change,
                definition_key="change",
                definition_version=1,
                state="completed",
                state_category="closed",
                fields={},
                snapshot={},
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
        data["availability_target"] = 99.9
        save_agreement(s, key, data, actor="owner", now=now, change_ref=change)
        month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        start = max(month, now - timedelta(hours=2))
        record_outage(
            s,
            service=service,
            start=start,
            end=start + timedelta(minutes=30),
            planned=False,
            actor="x",
            now=now,
        )
        return key, service, ci.id, change


async def test_the_agreement_pages_in_english_and_chinese(site: Site, page: Page, db_engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    key, service, ci, change = _agreement(db_engine, tag)

    await sign_in(page, site, "bob")
    await page.click("nav.mainnav >> text=Agreements")
    await expect(page.locator("h1")).to_have_text("Service level agreements")
    row = page.locator("#agreements tr", has_text=f"Mail service agreement {tag}")
    await expect(row).to_contain_text(service)
    await expect(row).to_contain_text("7×24")
    await row.locator("a").click()

    await expect(page.locator("h1")).to_have_text(f"Mail service agreement {tag}")
    await expect(page.locator("#targets")).to_contain_text("1 – Critical")
    await expect(page.locator("#targets tbody tr").first).to_contain_text("15 min")
    await expect(page.locator("#targets tbody tr").first).to_contain_text("4 h")
    # The support group by its directory label when it has one (the Chinese pages' test gives it one).
    await expect(page.locator("#olas")).to_contain_text(re.compile("service_desk|服务台"))
    await expect(page.locator("#olas")).to_contain_text("1 h 30 min")
    await expect(page.locator("#service-hours")).to_contain_text("00:00–24:00")
    await expect(page.locator("#versions tbody tr")).to_have_count(2)
    await expect(page.locator("#versions")).to_contain_text(change)
    await expect(page.locator("#versions")).to_contain_text("superseded")
    await expect(page.locator("#availability")).to_contain_text("target 99.9%")
    await expect(page.locator("#availability")).to_contain_text("Unplanned interruptions")
    await expect(page.locator("#availability dd").nth(1)).to_contain_text("1")
    await screenshot(page, "agreement-en")

    await page.goto(site.url(f"/ui/lang/zh?next=/ui/agreements/{key}"))
    await expect(page.locator("h1")).to_have_text(f"邮件服务协议 {tag}")
    await expect(page.locator("#olas-h")).to_have_text("运营级别目标（OLA）")
    await expect(page.locator("#targets")).to_contain_text("1 – 紧急")
    await expect(page.locator("#targets tbody tr").first).to_contain_text("15 分钟")
    await expect(page.locator("#versions")).to_contain_text("已被取代")
    await expect(page.locator("#avail-h")).to_have_text("本月至今的可用性")
    body = await page.locator("main").inner_text()
    for internal in ("response_minutes", "resolution_minutes", "superseded", "olas"):
        assert internal not in body, internal
    await screenshot(page, "agreement-zh")

    # A record on the agreement: its SLA panel names the agreement and the target each clock runs on.
    incident = f"incident_{tag}"
    await site.api.publish_mini(
        key=incident, source=INCIDENT.replace("key: incident\n", f"key: {incident}\n", 1)
    )
    body_json = {
        "definition": incident,
        "title": "邮件中断",
        "fields": {"impact": "1", "urgency": "1", "service": ci},
    }
    r = await site.api.post("alice", "/api/v1/processes", body_json)
    assert r.status_code == 201, r.text
    await page.goto(site.url(f"/ui/lang/en?next=/ui/records/{r.json()['number']}"))
    basis = page.locator(".sla-basis")
    await expect(basis.first).to_contain_text(f"Agreement {key}, version 2")
    await expect(page.locator("#sla-h + ul")).to_contain_text("target for priority 1")
    await expect(page.locator("#sla-h + ul")).to_contain_text("operational target of group service_desk")
    await page.locator(".sla-basis a").first.click()
    await expect(page.locator("h1")).to_have_text(f"Mail service agreement {tag}")


async def test_a_requester_has_no_agreements_link_and_is_refused(site: Site, page: Page) -> None:
    await sign_in(page, site, "alice")
    await expect(page.locator("nav.mainnav")).not_to_contain_text("Agreements")
    response = await page.goto(site.url("/ui/agreements"))
    assert response is not None and response.status == 403
    await expect(page.locator("main")).to_contain_text("role required: this needs the role Process owner")


async def test_the_monthly_service_report_in_chinese_with_its_downloads(
    site: Site, page: Page, db_engine: Engine
) -> None:
    """An auditor opens an agreement's report for this month in Chinese: availability, every section as
    a table headed in Chinese, and the PDF and XLSX downloads (read back)."""
    import io

    import openpyxl
    import pypdf

    tag = uuid.uuid4().hex[:6]
    key, _service, _ci, _change = _agreement(db_engine, tag)
    await sign_in(page, site, "root")
    await page.goto(site.url(f"/ui/lang/zh?next=/ui/agreements/{key}"))
    await page.click("#open-report")
    await expect(page.locator("h1")).to_contain_text("服务报告")
    for heading in (
        "服务级别达成",
        "偏差",
        "重大事件",
        "可用性与连续性",
        "客户满意度",
        "趋势",
        "流程关键指标",
    ):
        await expect(page.locator(".report-section h2", has_text=heading)).to_have_count(1)
    await screenshot(page, "service-report-zh")
    # No internal names anywhere on the page, the KPI table's formulas included (issue 16): they read
    # in Chinese here.
    body = await page.locator("main").inner_text()
    for internal in ("resolution_notes", "major_incident", "service_interruption", "percent"):
        assert internal not in body, internal
    kpis = await page.locator(".report-section", has_text="流程关键指标").inner_text()
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", kpis)
    assert "以取消结束的变更数" in kpis  # a change indicator's formula in Chinese
    async with page.expect_download() as pdf_download:
        await page.click("#report-pdf")
    pdf = await (await pdf_download.value).path()
    text = "".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages).replace("\x00", "")
    assert "服务报告" in text and "趋势" in text
    async with page.expect_download() as xlsx_download:
        await page.click("#report-xlsx")
    path = await (await xlsx_download.value).path()
    book = openpyxl.load_workbook(io.BytesIO(open(path, "rb").read()))
    assert "服务级别达成" in book.sheetnames
    cells = [str(c) for row in book["流程关键指标"].iter_rows(values_only=True) for c in row]
    assert "以取消结束的变更数" in cells  # the spreadsheet's formulas in the reader's language too
