"""The schedules page in Chromium (issue 20): a process owner creates a schedule from the form, reads
its rhythm in words, pauses and resumes it, in Chinese and English; bad input is refused in the reader's
language and creates nothing; a record a schedule started names "系统（计划任务）" in its history —
on the real app, Temporal server and database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import Site, screenshot, sign_in

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.browser]


async def test_owner_schedules_pauses_and_reads_runs_in_both_languages(page: Page, site: Site) -> None:
    mini = await site.api.publish_mini()
    name = f"Patrol {uuid.uuid4().hex[:6]}"
    await sign_in(page, site, "owner")
    await page.goto(site.url("/ui/lang/zh?next=/ui/record-schedules"))
    await expect(page.locator("h1")).to_have_text("计划任务")

    # Bad input first: a rule every N days without its interval, in Chinese; nothing is created.
    await page.fill("input[name=name]", name)
    await page.select_option("select[name=definition]", mini)
    await page.fill("input[name=title]", "机房巡检")
    await page.fill("textarea[name=fields]", '{"impact": "2", "urgency": "2"}')
    await page.select_option("select[name=kind]", "every_days")
    await page.click("#new-schedule button[type=submit]")
    await expect(page.locator("#schedule-error")).to_contain_text("按天数循环的规则需要间隔天数和起始日期")
    await expect(page.locator("#schedule-error")).to_contain_text("周期")
    await expect(page.locator("#schedules", has_text=name)).to_have_count(0)  # other tests' may be listed

    # A schedule that fires in a few seconds, every day (no business calendar).
    due = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
    await page.select_option("select[name=kind]", "workdays")
    await page.select_option("select[name=calendar]", "")
    # The page's form has no timezone control: without a calendar the rule runs in Asia/Shanghai.
    local = due.astimezone(ZoneInfo("Asia/Shanghai"))
    await page.fill("input[name=at]", f"{local:%H:%M:%S}")
    await page.click("#new-schedule button[type=submit]")
    await page.wait_for_url("**/ui/record-schedules/*")
    await expect(page.locator("#rhythm")).to_contain_text(f"每天 {local:%H:%M:%S}")
    await expect(page.locator("#state")).to_have_text("运行中")
    await screenshot(page, "schedule-zh")

    # The run starts the record on its own; its history names the schedule in the reader's words.
    for _ in range(60):
        await page.reload()
        if await page.locator("#runs a").count():
            break
        await asyncio.sleep(1)
    await expect(page.locator("#runs")).to_contain_text("已发起记录")
    await page.locator("#runs a").first.click()
    await expect(page.locator("body")).to_contain_text("系统（计划任务）")
    await page.go_back()

    await page.click("form[action$='/pause'] button")
    await expect(page.locator("#state")).to_have_text("已暂停")
    await page.goto(site.url(page.url.replace(site.base_url, "").replace("/ui/", "/ui/lang/en?next=/ui/", 1)))
    await expect(page.locator("#state")).to_have_text("Paused")
    await page.click("form[action$='/resume'] button")
    await expect(page.locator("#state")).to_have_text("Active")
    await screenshot(page, "schedule-en")
    await page.goto(site.url("/ui/record-schedules"))
    await expect(page.locator("#schedules")).to_contain_text(name)


async def test_people_without_the_owner_role_are_refused(page: Page, site: Site) -> None:
    await sign_in(page, site, "bob")
    response = await page.goto(site.url("/ui/record-schedules"))
    assert response is not None and response.status == 403
