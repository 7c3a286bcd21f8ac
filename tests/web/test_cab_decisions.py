"""A CAB member decides safely (issue 16), in Chromium on a phone, in Chinese: the card shows what is
decided on (the back-out plan), a rejection without a reason is not sent, a rejection asks for
confirmation and can be called off; after deciding, the card says so and the count goes down. On the
record page a member with a decision to make finds it first, above the actions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.api.conftest import MINI
from tests.web.conftest import Site, screenshot, sign_in
from tests.web.test_browser import _change_in_approval

pytestmark = pytest.mark.browser

LABELLED = MINI.replace(
    "- {name: backout_plan, type: text}",
    "- {name: backout_plan, type: text, label: {zh: 回退方案, en: Back-out plan}}",
)


@pytest_asyncio.fixture(loop_scope="session")
async def phone(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
    )
    context.set_default_timeout(20_000)
    tab = await context.new_page()
    yield tab
    await context.close()


async def test_a_rejection_needs_a_reason_and_a_confirmation(site: Site, phone: Page) -> None:
    key = await site.api.publish_mini(source=LABELLED)
    number = (await _change_in_approval(site, key, requester="alice"))["number"]
    page = phone
    await sign_in(page, site, "carol")
    await page.goto(site.url("/ui/lang/zh?next=/ui/inbox"))
    row = page.locator(f"li.inbox-item[data-number='{number}']")
    await expect(row.locator(".decision-texts")).to_contain_text("回退方案")
    await expect(row.locator(".decision-texts")).to_contain_text("Boot the previous image")
    await expect(page.locator("#inbox-count .badge")).to_be_visible()
    before = await page.locator("#inbox-count").inner_text()

    # No reason: nothing is sent, the comment says what is missing.
    reject = row.get_by_role("button", name="驳回")
    await reject.click()
    message = await row.locator("textarea[name=comment]").evaluate("e => e.validationMessage")
    assert "驳回理由" in message
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_have_count(0)

    # A reason, then the confirmation: called off once, then confirmed.
    await row.locator("textarea[name=comment]").fill("回退方案未经演练")
    await reject.click()
    dialog = page.locator("#reject-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(f"确定驳回 {number}")
    await screenshot(page, "cab-reject-confirm-zh-phone")
    await dialog.get_by_role("button", name="取消").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_have_count(0)
    await reject.click()
    await dialog.locator("#reject-ok").click()
    decided = page.locator(f"li.decided[data-number='{number}']")
    await expect(decided).to_be_visible()
    # The count in the header follows (the inbox-changed event reloads it).
    await expect(page.locator("#inbox-count")).not_to_have_text(before)

    # The rejection and its reason are on the record.
    record = (await site.api.get("carol", f"/api/v1/processes/{number}")).json()
    decisions = record["approvals"][-1]["decisions"]
    assert [(d["by"], d["decision"], d["comment"]) for d in decisions] == [
        ("carol", "reject", "回退方案未经演练")
    ]


async def test_the_decision_comes_first_on_the_record_page(site: Site, phone: Page) -> None:
    key = await site.api.publish_mini(source=LABELLED)
    number = (await _change_in_approval(site, key, requester="alice"))["number"]
    page = phone
    await sign_in(page, site, "dave")
    await page.goto(site.url(f"/ui/records/{number}"))
    approvals = page.locator("#approvals")
    await expect(approvals).to_have_class("card decide-first")
    first = await page.evaluate(
        "document.querySelector('#approvals').compareDocumentPosition("
        "document.querySelector('[aria-labelledby=actions-h]')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert first, "the approvals come before the actions"
    box = await approvals.bounding_box()
    assert box is not None and box["y"] < 844  # on the first screen of a phone
    await expect(approvals.get_by_role("button", name="Approve")).to_be_visible()
    await screenshot(page, "record-decide-first-phone")
    # Someone without a decision to make reads the record in its usual order.
    await sign_in(page, site, "bob")
    await page.goto(site.url(f"/ui/records/{number}"))
    await expect(page.locator("#approvals")).to_have_class("card")
