"""A CAB member decides safely (issue 16), in Chromium on a phone, in Chinese: the card shows what is
decided on (the back-out plan), a rejection without a reason is not sent, a rejection asks for
confirmation and can be called off; after deciding, the card says so and the count goes down. On the
record page a member with a decision to make finds it first, above the actions."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.api.conftest import MINI
from tests.web.conftest import SCREENS, Site, new_page, screenshot, sign_in
from tests.web.test_browser import _change_in_approval

pytestmark = pytest.mark.browser

LABELLED = MINI.replace(
    "- {name: backout_plan, type: text}",
    "- {name: backout_plan, type: text, label: {zh: 回退方案, en: Back-out plan}}",
)


# Each daily task in both languages, on a phone and on a desktop (issue 16).
WORDS = {
    "zh": {
        "backout": "回退方案",
        "reject": "驳回",
        "needs": "驳回理由",
        "confirm": "确定驳回",
        "cancel": "取消",
    },
    "en": {
        "backout": "Back-out plan",
        "reject": "Reject",
        "needs": "reason",
        "confirm": "Reject",
        "cancel": "Cancel",
    },
}


@pytest.mark.parametrize(("lang", "screen"), [("zh", "phone"), ("en", "desktop")])
async def test_a_rejection_needs_a_reason_and_a_confirmation(
    site: Site, browser: Browser, lang: str, screen: str
) -> None:
    words = WORDS[lang]
    key = await site.api.publish_mini(source=LABELLED)
    number = (await _change_in_approval(site, key, requester="alice"))["number"]
    page = await new_page(browser, screen)
    await sign_in(page, site, "carol")
    await page.goto(site.url(f"/ui/lang/{lang}?next=/ui/inbox"))
    row = page.locator(f"li.inbox-item[data-number='{number}']")
    await expect(row.locator(".decision-texts")).to_contain_text(words["backout"])
    await expect(row.locator(".decision-texts")).to_contain_text("Boot the previous image")
    await expect(page.locator("#inbox-count .badge")).to_be_visible()
    before = await page.locator("#inbox-count").inner_text()

    # No reason: nothing is sent, the comment says what is missing.
    reject = row.get_by_role("button", name=words["reject"])
    await reject.click()
    message = await row.locator("textarea[name=comment]").evaluate("e => e.validationMessage")
    assert words["needs"] in message, message
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_have_count(0)

    # A reason, then the confirmation: called off once, then confirmed.
    await row.locator("textarea[name=comment]").fill("回退方案未经演练")
    await reject.click()
    dialog = page.locator("#reject-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(f"{words['confirm']} {number}")
    await screenshot(page, f"cab-reject-confirm-{lang}-{screen}")
    await dialog.get_by_role("button", name=words["cancel"]).click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_have_count(0)
    await reject.click()
    await dialog.locator("#reject-ok").click()
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_be_visible()
    # The count in the header follows (the inbox-changed event reloads it).
    await expect(page.locator("#inbox-count")).not_to_have_text(before)

    # The rejection and its reason are on the record.
    record = (await site.api.get("carol", f"/api/v1/processes/{number}")).json()
    decisions = record["approvals"][-1]["decisions"]
    assert [(d["by"], d["decision"], d["comment"]) for d in decisions] == [
        ("carol", "reject", "回退方案未经演练")
    ]
    await page.context.close()


@pytest.mark.parametrize(("lang", "screen"), [("zh", "phone"), ("en", "desktop")])
async def test_the_decision_comes_first_on_the_record_page(
    site: Site, browser: Browser, lang: str, screen: str
) -> None:
    key = await site.api.publish_mini(source=LABELLED)
    number = (await _change_in_approval(site, key, requester="alice"))["number"]
    page = await new_page(browser, screen)
    await sign_in(page, site, "dave")
    await page.goto(site.url(f"/ui/lang/{lang}?next=/ui/records/{number}"))
    approvals = page.locator("#approvals")
    await expect(approvals).to_have_class("card decide-first")
    first = await page.evaluate(
        "document.querySelector('#approvals').compareDocumentPosition("
        "document.querySelector('[aria-labelledby=actions-h]')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert first, "the approvals come before the actions"
    box = await approvals.bounding_box()
    assert box is not None and box["y"] < SCREENS[screen]["height"]  # on the first screen
    await expect(approvals.get_by_role("button", name="同意" if lang == "zh" else "Approve")).to_be_visible()
    await screenshot(page, f"record-decide-first-{lang}-{screen}")
    # Someone without a decision to make reads the record in its usual order.
    await sign_in(page, site, "bob")
    await page.goto(site.url(f"/ui/records/{number}"))
    await expect(page.locator("#approvals")).to_have_class("card")
    await page.context.close()
