"""The dashboard in a real browser, in Chinese: "no data" instead of 0 %, a figure opens the records
behind it, the trend table's months, the downloads offered (docs/dashboard.md)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine

from tests.web.conftest import Site, screenshot, sign_in
from tests.web.test_dashboard_drill import november

pytestmark = pytest.mark.browser


async def test_a_chinese_reader_drills_down_from_a_figure(page: Page, site: Site, db_engine: Engine) -> None:
    key = november(db_engine)
    await sign_in(page, site, "lead")
    await page.goto(
        site.url(f"/ui/lang/zh?next=/ui/dashboard%3Fdefinition%3D{key}%26from%3D2026-11-01%26to%3D2026-11-30")
    )
    await expect(page.locator("#dash-records")).to_have_text("3 张工单")
    await expect(page.locator("#dash-first")).to_have_text("2026-11-01")  # days of Shanghai
    await expect(page.locator("#dash-last")).to_have_text("2026-11-30")
    assert_card = page.locator(".kpi[data-kpi='first_assignment_rate'] .kpi-value")
    await expect(assert_card).to_have_text("无数据")
    await expect(page.locator("#trend-table thead th").last).to_have_text("2026-11")
    await expect(page.locator(".dash-export a", has_text="XLSX")).to_be_visible()
    await screenshot(page, "dashboard-zh")
    await page.locator(".kpi[data-kpi='major_incidents'] a.kpi-drill").click()
    await page.wait_for_url("**/ui/records?**kpi=major_incidents**")
    await expect(page.locator("#drill-note")).to_contain_text("重大事件数量")
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    await expect(page.locator("#export-csv")).to_be_visible()
    await screenshot(page, "dashboard-drill-zh")
