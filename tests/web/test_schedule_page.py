"""The change calendar page in Chromium, in Chinese: a change manager defines a Spring Festival freeze
on a CI from the page, sees it on the month grid with a change planned on that CI inside it (flagged as
conflicting), in the week and list views, and cancels it; a window that ends before it starts is
refused with the fields named in Chinese and nothing saved; an agent sees the calendar but no form."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import icalendar
from playwright.async_api import Page, expect
from sqlalchemy import Engine

from api.auth import issue_token
from cmdb import cis, models
from core.db import session_scope
from core.store import upsert_user
from tests.paths import ROOT
from tests.web.conftest import Site, open_action, screenshot, sign_in

CHANGE = (ROOT / "definitions" / "library" / "change.yaml").read_text(encoding="utf-8")


def _server(db_engine: Engine, tag: str) -> int:
    with session_scope(db_engine) as s:
        row = cis.create(
            s,
            model=models.current(s),
            class_name="server",
            name=f"core-{tag}",
            attributes={"hostname": f"core-{tag}"},
            actor="cfg",
        )
        assert row.id is not None
        return row.id


async def test_a_freeze_on_the_change_calendar_in_chinese(site: Site, page: Page, db_engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    ci = _server(db_engine, tag)
    # Within the year a calendar feed covers; the window reaches only this test's own CI.
    festival = date.today() + timedelta(days=60 + uuid.uuid4().int % 200)
    key = f"change_{tag}"
    await site.api.publish_mini(key=key, source=CHANGE.replace("key: change\n", f"key: {key}\n", 1))
    start = f"{(festival + timedelta(days=2)).isoformat()}T10:00:00+08:00"
    end = f"{(festival + timedelta(days=2)).isoformat()}T12:00:00+08:00"
    r = await site.api.post(
        "root",
        "/api/v1/processes",
        {
            "definition": key,
            "title": "核心系统升级",
            "fields": {"cis": [ci], "planned_start": start, "planned_end": end},
        },
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    await sign_in(page, site, "root")
    await page.goto(site.url(f"/ui/lang/zh?next=/ui/schedule?view=list%26day={festival.isoformat()}"))
    await expect(page.locator("h1")).to_have_text("变更日历")

    # A window that ends before it starts: refused, the fields named in Chinese, nothing saved.
    await page.click("#window-form >> xpath=.. >> summary")
    await page.select_option("#w-kind", "freeze")
    await page.fill("#w-title-zh", f"春节封网 {tag}")
    await page.fill("#w-title-en", f"Spring Festival freeze {tag}")
    await page.fill("#w-start", f"{(festival + timedelta(days=7)).isoformat()}T00:00")
    await page.fill("#w-end", f"{festival.isoformat()}T00:00")
    await page.select_option("#w-scope", "cis")
    await page.fill("#w-values", str(ci))
    await page.click("#window-form button[type=submit]")
    await expect(page.locator("#window-error")).to_contain_text("未保存")
    await expect(page.locator("#window-error")).to_contain_text("结束时间")
    assert "ends_at" not in await page.locator("#window-error").inner_text()

    # Now right: saved, and shown on the month of its start with the change inside it flagged.
    await page.fill("#w-start", f"{festival.isoformat()}T00:00")
    await page.fill("#w-end", f"{(festival + timedelta(days=7)).isoformat()}T00:00")
    await page.click("#window-form button[type=submit]")
    await expect(page.locator(".alert-ok")).to_have_text("窗口已保存。")
    day = page.locator(f"td[data-day='{(festival + timedelta(days=2)).isoformat()}']")
    await expect(day).to_contain_text(f"春节封网 {tag}")
    await expect(day.locator("a.sched-conflict")).to_contain_text(number)
    await screenshot(page, "schedule-month-zh")

    await page.click("text=周")
    await expect(page.locator("#calendar")).to_contain_text(f"春节封网 {tag}")
    await page.click("a.btn:has-text('列表')")
    await expect(page.locator("#changes")).to_contain_text(number)
    await expect(page.locator("#changes")).to_contain_text("封网")
    body = await page.locator("main").inner_text()
    for internal in ("freeze", "maintenance", "planned_start", "ci_overlap", "scope_values"):
        assert internal not in body, internal

    # Subscribing to the CI's calendar: the address is shown once, and a calendar parser reads the change
    # and the freeze from it.
    await page.select_option("#f-kind", "ci")
    await page.fill("#f-target", str(ci))
    await page.click("#feed-form button[type=submit]")
    url = await page.locator("#new-feed input.feed-url").input_value()
    assert url.startswith(site.base_url) and url.endswith(".ics")
    async with httpx.AsyncClient() as http:
        feed = await http.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(feed.content)
    summaries = [str(e.get("SUMMARY")) for e in cal.walk("VEVENT")]
    assert any(number in x for x in summaries) and any(tag in x for x in summaries), (
        summaries
    )  # owner's language
    await expect(page.locator("#my-feeds")).to_contain_text(str(ci))

    # The change's own page shows the freeze it falls in (its panel asks the schedule when it loads).
    await page.goto(site.url(f"/ui/records/{number}"))
    await expect(page.locator("#record-schedule")).to_contain_text(f"春节封网 {tag}")
    await page.goto(site.url(f"/ui/schedule?view=list&day={festival.isoformat()}"))
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#windows tr", has_text=f"春节封网 {tag}").locator("button").click()
    await expect(page.locator(".alert-ok")).to_have_text("窗口已取消。")


async def test_an_agent_sees_the_calendar_but_defines_no_window(site: Site, page: Page) -> None:
    await sign_in(page, site, "bob")
    await page.goto(site.url("/ui/schedule"))
    await expect(page.locator("h1")).to_have_text("Change calendar")
    await expect(page.locator("#calendar")).to_be_visible()
    assert await page.locator("#window-form").count() == 0
    r = await site.api.http.post(
        "/ui/schedule/windows", data={"kind": "freeze"}, headers=site.api.headers("bob")
    )
    assert r.status_code in (403, 303, 401)


async def test_a_change_planned_in_a_freeze_is_refused_on_its_page(
    site: Site, page: Page, db_engine: Engine
) -> None:
    """The same refusal as through the API, where a change manager works: the record page's action,
    in Chinese, naming the freeze; nothing moves."""
    tag = uuid.uuid4().hex[:6]
    ci = _server(db_engine, tag)
    with session_scope(db_engine) as s:
        upsert_user(
            s,
            username="chm-web",
            roles=["agent", "change_manager"],
            groups=["change_management"],
            language="zh",
        )
        site.api.tokens["chm-web"] = issue_token(s, username="chm-web", name="schedule page test")
    key = f"change_{tag}"
    await site.api.publish_mini(key=key, source=CHANGE.replace("key: change\n", f"key: {key}\n", 1))
    festival = date.today() + timedelta(days=60 + uuid.uuid4().int % 200)
    window = {
        "kind": "freeze",
        "title_en": f"National Day freeze {tag}",
        "title_zh": f"国庆封网 {tag}",
        "starts_at": f"{festival.isoformat()}T00:00:00+08:00",
        "ends_at": f"{(festival + timedelta(days=7)).isoformat()}T00:00:00+08:00",
        "scope": "cis",
        "scope_values": [ci],
    }
    r = await site.api.post("root", "/api/v1/schedule/windows", window)
    assert r.status_code == 201, r.text
    r = await site.api.post(
        "chm-web", "/api/v1/processes", {"definition": key, "title": "升级核心交换机", "fields": {}}
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    r = await site.api.post(
        "chm-web",
        f"/api/v1/processes/{number}/transitions",
        {"trigger": "assess", "fields": {"assignee": "chm-web"}},
    )
    assert r.status_code == 200, r.text
    plans = {
        "risk": "medium",
        "risk_assessment": "短暂中断",
        "business_impact": "窗口外无影响",
        "affected_cis": ["core switch"],
        "cis": [ci],
        "implementation_plan": "逐台升级",
        "backout_plan": "回退旧版本",
        "test_plan": "冒烟测试",
        "implementer": "chm-web",
        "planned_start": f"{(festival + timedelta(days=1)).isoformat()}T22:00:00+08:00",
        "planned_end": f"{(festival + timedelta(days=1)).isoformat()}T23:00:00+08:00",
    }
    r = await site.api.patch("chm-web", f"/api/v1/processes/{number}", {"fields": plans})
    assert r.status_code == 200, r.text

    await sign_in(page, site, "chm-web")
    await page.goto(site.url(f"/ui/lang/zh?next=/ui/records/{number}"))
    action = await open_action(page, "submit")
    await action.locator("button[type=submit]").click()
    await expect(action.locator(".form-errors")).to_contain_text(f"国庆封网 {tag}")
    await expect(action.locator(".form-errors")).to_contain_text("变更日程不允许")
    await screenshot(page, "schedule-refused-zh")
    r = await site.api.get("chm-web", f"/api/v1/processes/{number}")
    assert r.json()["state"] == "assessment"
