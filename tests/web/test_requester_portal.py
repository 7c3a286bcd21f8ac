"""A requester's day in Chromium, in Chinese (issue 16): the new-incident form shows the fields the
definition gives requesters (what happened, where, how bad), not the back-office form; when the team
has resolved it, the inbox says it waits for the requester's confirmation, and reopening asks why."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.paths import LIBRARY
from tests.web.conftest import Site, new_page, screenshot, sign_in

pytestmark = pytest.mark.browser

INCIDENT = (
    (LIBRARY / "incident.yaml").read_text(encoding="utf-8").replace("key: incident\n", "key: mini\n", 1)
)


WORDS = {
    "zh": {"description": "问题描述", "reopen": "重新打开", "confirm": "确认解决", "why": "仍存在的问题"},
    "en": {
        "description": "Description",
        "reopen": "Reopen",
        "confirm": "Confirm resolution",
        "why": "still wrong",
    },
}


@pytest.mark.parametrize(("lang", "screen"), [("zh", "desktop"), ("en", "phone")])
async def test_a_requester_reports_with_their_form_and_confirms_the_resolution(
    site: Site, browser: Browser, lang: str, screen: str
) -> None:
    words = WORDS[lang]
    key = await site.api.publish_mini(source=INCIDENT)
    page = await new_page(browser, screen)
    await sign_in(page, site, "alice")
    await page.goto(site.url(f"/ui/lang/{lang}?next=/ui/records/new?definition={key}"))
    form = page.locator("form#new-record, form[action='/ui/records/new']").first
    names = await form.locator("[name^='f.']").evaluate_all("els => [...new Set(els.map(e => e.name))]")
    assert names == ["f.description", "f.service", "f.impact", "f.urgency", "f.category"], names
    await expect(form).to_contain_text(words["description"])
    await screenshot(page, f"requester-new-incident-{lang}-{screen}")
    await page.fill("#nf-title", "打印机卡纸")
    await page.fill("[name='f.description']", "三楼打印机每打一页就卡纸")
    await page.select_option("[name='f.impact']", "3")
    await page.select_option("[name='f.urgency']", "3")
    await page.select_option("[name='f.category']", "hardware")
    await form.locator("button[type=submit]").last.click()
    await page.wait_for_url(re.compile(r".*/ui/records/[A-Z]+[0-9]+$"))
    number = page.url.rsplit("/", 1)[-1]

    # The service desk accepts (and so works it) and resolves it.
    api = site.api
    got = await api.get("bob", f"/api/v1/processes/{number}")
    assert got.status_code == 200, (page.url, got.text)
    rec = got.json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    r = await api.post("bob", url, {"trigger": "accept", "fields": {}})
    assert r.status_code == 200 and r.json()["assignee"] == "bob", r.text
    resolution = {"resolution_code": "solved_permanently", "resolution_notes": "更换了搓纸轮"}
    r = await api.post("bob", url, {"trigger": "resolve", "fields": resolution})
    assert r.status_code == 200 and r.json()["state"] == "resolved", r.text

    await page.goto(site.url("/ui/inbox"))
    item = page.locator(f"#awaiting-confirmation li[data-number='{number}']")
    await expect(item).to_contain_text("打印机卡纸")
    await expect(item).to_contain_text("更换了搓纸轮")
    await screenshot(page, f"requester-confirm-{lang}-{screen}")
    reopen = item.get_by_role("button", name=words["reopen"])
    await reopen.click()
    message = await item.locator("textarea[name=comment]").evaluate("e => e.validationMessage")
    assert words["why"] in message, message
    await item.get_by_role("button", name=words["confirm"]).click()
    await page.wait_for_url(f"**/ui/records/{number}")
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "closed")
    await page.goto(site.url("/ui/inbox"))
    await expect(page.locator(f"#awaiting-confirmation li[data-number='{number}']")).to_have_count(0)
    await page.context.close()
