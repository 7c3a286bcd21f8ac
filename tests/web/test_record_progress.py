"""The record page shows where a record stands and what comes next (issue 16): a step bar of its
process's main path, the likely next action open first and the others behind "other actions", the
whole lifecycle diagram on demand — in Chromium, on a real workflow."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import Site, new_page, sign_in

pytestmark = pytest.mark.browser


STATES = {
    "en": ("New", "In progress", "Awaiting approval", "Resolved", "Closed", "Waiting"),
    "zh": ("新建", "处理中", "审批中", "已解决", "已关闭", "等待"),
}
OTHER = {"en": r"Other actions \(\d+\)", "zh": r"其他操作（\d+）"}
ENLARGE = {"en": "Enlarge", "zh": "放大"}


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_the_step_bar_and_the_likely_next_step(
    site: Site, browser: Browser, lang: str, screen: str
) -> None:
    new, progress, approval, resolved, closed, waiting = STATES[lang]
    page = await new_page(browser, screen)
    key = await site.api.publish_mini()
    r = await site.api.create("alice", key, title="Disk full")
    assert r.status_code == 201, r.text
    rec = r.json()
    await sign_in(page, site, "bob")
    await page.goto(site.url(f"/ui/lang/{lang}?next=/ui/records/{rec['number']}"))

    steps = page.locator("#record-steps li")
    await expect(steps).to_have_text([re.compile(s) for s in (new, progress, approval, resolved, closed)])
    await expect(page.locator("#record-steps [aria-current=step]")).to_contain_text(new)
    first = page.locator("details.action").first
    await expect(first).to_have_attribute("data-trigger", "accept")
    await expect(first).to_have_attribute("open", "")
    await first.locator("input[name='f.assignee']").fill("bob")
    await first.get_by_role("button", name="accept").click()
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "in_progress")

    # In progress (no risk given, so the approval's guard keeps it from being offered): the next step
    # offered on the path is resolving; waiting sits behind.
    await expect(page.locator("#record-steps .step-done")).to_have_text([re.compile(new)])
    await expect(page.locator("#record-steps [aria-current=step]")).to_contain_text(progress)
    await expect(page.locator("details.action").first).to_have_attribute("data-trigger", "resolve")
    more = page.locator("details.more-actions")
    await expect(more.locator(":scope > summary")).to_contain_text(re.compile(OTHER[lang]))
    await expect(more).not_to_have_attribute("open", "")
    await expect(more.locator("details.action[data-trigger='wait']")).to_be_attached()

    # Off the main path (waiting): its own state is the current step, after what it has passed.
    r = await site.api.post("bob", f"/api/v1/processes/{rec['id']}/transitions", {"trigger": "wait"})
    assert r.status_code == 200, r.text
    await page.reload()
    names = await steps.all_inner_texts()
    assert [n.split("\n")[-1].strip() for n in names][:3] == [new, progress, waiting], names
    await expect(page.locator("#record-steps [aria-current=step]")).to_contain_text(waiting)

    # The whole diagram on demand: closed until asked for, and the enlarged one is drawn.
    await expect(page.locator("details.diagram-more")).not_to_have_attribute("open", "")
    await page.get_by_role("button", name=ENLARGE[lang]).click()
    await expect(page.locator("dialog.diagram-dialog svg")).to_be_visible()
    await page.context.close()
