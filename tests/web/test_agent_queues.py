"""An agent's queues in Chromium, in Chinese (issue 16): assigned to me, my groups, unassigned, SLA
breaching soon, with the SLA due in its own column and the list sorted by it; the list's address
follows each filter (so it can be shared), and a filter saved by name comes back after a reload."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Browser, expect

from tests.api.conftest import MINI
from tests.web.conftest import Site, new_page, sign_in

pytestmark = pytest.mark.browser

# Resolution targets long enough to stay running through the test: P1 two hours, P3 ten.
LONG = MINI.replace(
    'targets: {"1": PT4S, "2": PT8S, "3": PT20S}', 'targets: {"1": PT2H, "2": PT3H, "3": PT10H}'
)


WORDS = {
    "zh": {
        "mine": "分派给我",
        "groups": "我的组",
        "unassigned": "未分派",
        "due_soon": "即将超时",
        "due": "SLA 到期",
    },
    "en": {
        "mine": "Assigned to me",
        "groups": "My groups",
        "unassigned": "Unassigned",
        "due_soon": "SLA breaching soon",
        "due": "SLA due",
    },
}


@pytest.mark.parametrize(("lang", "screen"), [("zh", "desktop"), ("en", "phone")])
async def test_an_agent_works_from_queues(site: Site, browser: Browser, lang: str, screen: str) -> None:
    words = WORDS[lang]
    page = await new_page(browser, screen)
    assert LONG != MINI
    key = await site.api.publish_mini(source=LONG)
    api, tag = site.api, uuid.uuid4().hex[:6]

    async def new(title: str, group: str, impact: str) -> dict[str, str]:
        r = await api.create(
            "alice", key, title=f"{title} {tag}", impact=impact, urgency=impact, assignment_group=group
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    mine = await new("Mail down", "desk", "1")  # P1: breaches in two hours
    r = await api.post(
        "lead",
        f"/api/v1/processes/{mine['id']}/transitions",
        {"trigger": "accept", "fields": {"assignee": "lead"}},
    )
    assert r.status_code == 200, r.text
    waiting = await new("Printer jam", "desk", "2")  # P3, nobody on it yet
    elsewhere = await new("Badge reader", "facilities", "2")

    await sign_in(page, site, "lead")
    await page.goto(site.url(f"/ui/lang/{lang}?next=/ui/records"))
    queues = page.locator("nav.queues")
    await queues.get_by_role("link", name=words["mine"]).click()
    await page.wait_for_url(re.compile(r".*queue=mine"))
    results = page.locator("#results")
    await expect(results).to_contain_text(mine["number"])
    await expect(results).not_to_contain_text(waiting["number"])
    await expect(results.locator("th")).to_contain_text([words["due"]])

    await queues.get_by_role("link", name=words["groups"]).click()
    await expect(results).to_contain_text(waiting["number"])
    await expect(results).not_to_contain_text(elsewhere["number"])
    await queues.get_by_role("link", name=words["unassigned"]).click()
    await expect(results).to_contain_text(waiting["number"])
    await expect(results).not_to_contain_text(mine["number"])
    await queues.get_by_role("link", name=words["due_soon"]).click()
    await page.wait_for_url(re.compile(r".*queue=due_soon"))
    # Overdue records of other tests (their workers gone) come first: narrow to this test's own.
    await page.fill("#q", tag)
    await page.wait_for_url(re.compile(rf".*queue=due_soon.*q={tag}|.*q={tag}.*queue=due_soon"))
    await expect(results).to_contain_text(mine["number"])  # two hours left
    await expect(results).not_to_contain_text(waiting["number"])  # ten hours left

    # Sorted by SLA due: the P1 before the P3; the address follows the change at once.
    await page.goto(site.url("/ui/records"))
    await page.fill("#q", tag)
    await page.select_option("#f-sort", "due")
    await page.wait_for_url(re.compile(r".*sort=due"))
    await expect(results.locator("tbody tr")).to_have_count(3)
    numbers = await results.locator("tbody tr td:first-child").all_inner_texts()
    assert numbers[0] == mine["number"] and set(numbers[1:]) == {waiting["number"], elsewhere["number"]}
    await expect(page.locator("#export-csv")).to_have_attribute("href", re.compile(r".*sort=due.*"))

    # Saved by name, back after a reload, and it opens the same list.
    shared = page.url
    page.once("dialog", lambda dialog: dialog.accept("按 SLA 排序"))
    await page.click("#save-filter")
    saved = page.locator("#saved-filters a", has_text="按 SLA 排序")
    await expect(saved).to_be_visible()
    await page.goto(site.url("/ui/records"))
    await saved.click()
    await page.wait_for_url(shared)
    await expect(results.locator("tbody tr")).to_have_count(3)
    await page.context.close()
