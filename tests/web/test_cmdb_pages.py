"""The CMDB's pages in Chromium, in Chinese: search, a CI's page (attributes by label, relationships
drawn by Mermaid, history, the records on it) and impact analysis from a CI and from an incident that
names it — on the real app, Temporal server and database."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect
from sqlalchemy import Engine

from cmdb import cis, models, relations
from core.db import session_scope
from tests.paths import ROOT
from tests.web.conftest import Site, screenshot, sign_in

INCIDENT = (ROOT / "definitions" / "library" / "incident.yaml").read_text(encoding="utf-8")


def _landscape(db_engine: Engine, tag: str) -> dict[str, int]:
    """A payments service depending on an application that runs on a server (written straight into the
    CMDB: the API's own tests cover its writes)."""
    with session_scope(db_engine) as s:
        model = models.current(s)
        server = cis.create(
            s,
            model=model,
            class_name="server",
            name=f"srv-{tag}",
            attributes={"hostname": f"srv-{tag}", "os": "Kylin V10"},
            actor="cfg",
        )
        app = cis.create(
            s,
            model=model,
            class_name="application",
            name=f"核心账务-{tag}",
            attributes={"environment": "production"},
            actor="cfg",
        )
        service = cis.create(
            s,
            model=model,
            class_name="business_service",
            name=f"支付-{tag}",
            attributes={"owner": "lee", "criticality": "critical"},
            actor="cfg",
        )
        assert server.id and app.id and service.id
        relations.create(
            s, model=model[1], type_name="runs_on", source_id=app.id, target_id=server.id, actor="cfg"
        )
        relations.create(
            s, model=model[1], type_name="depends_on", source_id=service.id, target_id=app.id, actor="cfg"
        )
        return {"server": server.id, "app": app.id, "service": service.id}


async def _incident_key(site: Site, tag: str) -> str:
    key = f"incident_{tag}"
    source = INCIDENT.replace("key: incident\n", f"key: {key}\n", 1)
    return await site.api.publish_mini(key=key, source=source)


async def test_a_ci_and_its_impact_in_chinese(site: Site, page: Page, db_engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = _landscape(db_engine, tag)
    key = await _incident_key(site, tag)
    r = await site.api.post(
        "alice",
        "/api/v1/processes",
        {
            "definition": key,
            "title": "支付失败",
            "fields": {"impact": "2", "urgency": "1", "cis": [ids["server"]]},
        },
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    await sign_in(page, site, "bob")
    await page.goto(site.url("/ui/lang/zh?next=/ui/cmdb"))
    await page.fill("#c-q", f"srv-{tag}")
    await page.select_option("#c-class", "server")
    await page.click(".filter-go button")
    await expect(page.locator("#cis")).to_contain_text("服务器")
    await page.click(f"text=srv-{tag}")

    # The CI's page: attributes by their labels, the relationship drawn, history, the incident on it.
    await expect(page.locator("h1")).to_have_text(f"srv-{tag}")
    await expect(page.locator("#attrs-h + dl")).to_contain_text("操作系统")
    await expect(page.locator("#ci-relations")).to_contain_text(f"核心账务-{tag}")
    await expect(page.locator("#ci-graph svg")).to_be_visible()
    await expect(page.locator("#ci-history")).to_contain_text("新建")
    await expect(page.locator(".records-on-ci")).to_contain_text(number)
    await screenshot(page, "cmdb-ci-zh")

    # Its impact: the application and the payments service are reached; the incident is open on it.
    await page.click("text=影响分析")
    await expect(page.locator("#impact-services")).to_contain_text(f"支付-{tag}")
    await expect(page.locator("#impact-reached")).to_contain_text(f"核心账务-{tag}")
    await expect(page.locator(".records-on-ci")).to_contain_text(number)
    await expect(page.locator(".records-on-ci")).to_contain_text("事件")
    await screenshot(page, "cmdb-impact-zh")

    # From the incident: its CI is a link, and its impact names the service.
    await page.goto(site.url(f"/ui/records/{number}"))
    await expect(page.locator("a.ci-link")).to_have_text(f"srv-{tag}")
    await page.click("text=所涉配置项的影响分析")
    await expect(page.locator("h1")).to_contain_text(number)
    await expect(page.locator("#impact-services")).to_contain_text(f"支付-{tag}")
    body = await page.locator("main").inner_text()
    for internal in ("business_service", "runs_on", "depends_on", "downstream", "ci_changes"):
        assert internal not in body, internal
