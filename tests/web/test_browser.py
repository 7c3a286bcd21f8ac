"""The web page in a real browser: approvals, separation of duties, transitions, the studio, the dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import Engine

from api.auth import issue_token
from core.db import session_scope
from core.store import upsert_user
from core.tables import UserRow
from tests.web.conftest import SCREENSHOTS, Site, open_action, screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser

REQUESTER = "sodweb"  # a requester who also sits on the CAB


@pytest.fixture
def cab_requester(db_engine: Engine, tokens: dict[str, str]) -> Iterator[str]:
    """A CAB member who raises a change; deactivated afterwards so it joins no other test's CAB."""
    with session_scope(db_engine) as session:
        user = upsert_user(
            session,
            username=REQUESTER,
            roles=["requester", "approver"],
            groups=["cab"],
            language="en",
            display_name="Sam Requester",
        )
        user.active = True
        tokens[REQUESTER] = issue_token(session, username=REQUESTER)
    yield REQUESTER
    with session_scope(db_engine) as session:
        row = session.get(UserRow, REQUESTER)
        assert row is not None
        row.active = False
        session.add(row)


async def _change_in_approval(site: Site, key: str, requester: str) -> dict[str, Any]:
    api = site.api
    r = await api.create(
        requester,
        key,
        title="Replace core switch firmware",
        risk=3,
        plan="Upgrade both switches in turn",
        backout_plan="Boot the previous image",
    )
    assert r.status_code == 201, r.text
    rec: dict[str, Any] = r.json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    r = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert r.status_code == 200, r.text
    r = await api.post("bob", url, {"trigger": "submit"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approval"
    return r.json()  # type: ignore[no-any-return]


async def _approve_in_inbox(page: Page, number: str, comment: str) -> None:
    row = page.locator(f"li.inbox-item[data-number='{number}']")
    await expect(row).to_be_visible()
    await row.locator("textarea[name=comment]").fill(comment)
    await row.get_by_role("button", name="Approve").click()
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_contain_text("You approved")


async def test_approvers_move_a_change_on_and_the_requester_is_refused(
    site: Site, page: Page, cab_requester: str
) -> None:
    key = await site.api.publish_mini()
    rec = await _change_in_approval(site, key, requester=cab_requester)
    number = rec["number"]

    # The sign-in page, then the first CAB member's inbox.
    await page.goto(site.url("/"))
    await page.wait_for_url("**/ui/sign-in")
    await screenshot(page, "sign-in")
    await sign_in(page, site, "carol")
    row = page.locator(f"li.inbox-item[data-number='{number}']")
    await expect(row).to_contain_text("Replace core switch firmware")
    await expect(row).to_contain_text("0 of 2 needed")
    await screenshot(page, "inbox")
    await _approve_in_inbox(page, number, "Looks safe")
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_contain_text("1 of 2 approvals")
    await sign_out(page)

    # The requester sits on the CAB but may not approve their own change: the rule is named.
    await sign_in(page, site, cab_requester)
    await expect(page.locator(f"li.inbox-item[data-number='{number}']")).to_have_count(0)
    await page.goto(site.url(f"/ui/records/{number}"))
    pending = page.locator("li.approval-pending")
    await pending.get_by_role("button", name="Approve").click()
    refusal = pending.locator(".form-errors .alert-error")
    await expect(refusal).to_contain_text("separation of duties")
    await expect(refusal).to_contain_text("requester")
    await screenshot(page, "record-refused")
    await sign_out(page)

    # The second CAB member completes the quorum; the manager's level opens.
    await sign_in(page, site, "dave")
    await _approve_in_inbox(page, number, "Agreed")
    await expect(page.locator(f"li.decided[data-number='{number}']")).to_contain_text("step approved")
    await sign_out(page)

    # The manager approves; the record moves on to its next state.
    await sign_in(page, site, "boss")
    await _approve_in_inbox(page, number, "Go ahead")
    await page.locator(f"li.decided[data-number='{number}']").get_by_role("link", name="Open record").click()
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "in_progress")
    await expect(page.locator("#approvals")).to_contain_text("Looks safe")
    await expect(page.locator("#history")).to_contain_text("moved")


async def test_an_agent_fires_a_transition_through_the_form(site: Site, page: Page) -> None:
    key = await site.api.publish_mini()
    r = await site.api.create("alice", key, title="Laptop will not boot", risk=2)
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    await sign_in(page, site, "bob")
    await page.goto(site.url(f"/ui/records?definition={key}"))
    await page.get_by_role("link", name=number).click()
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "new")

    accept = await open_action(page, "accept")
    await expect(accept).to_have_class(re.compile(r"\baction-primary\b"))  # the likely next step, open
    # The required field is required in the form too; the engine's own check answers if it is empty.
    await expect(accept.locator("input[name='f.assignee']")).to_have_attribute("required", "")
    await accept.locator("input[name='f.assignee']").fill("bob")
    await accept.locator("textarea[name=comment]").fill("Taking it")
    await accept.get_by_role("button", name="accept").click()
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "in_progress")
    await expect(page.locator("#history")).to_contain_text("Taking it")

    # A transition that needs two texts: the engine checks each one and the page names the field.
    submit = await open_action(page, "submit")
    await submit.locator("textarea[name='f.plan']").fill("Reimage the disk")
    await submit.locator("textarea[name='f.backout_plan']").fill("Restore the backup")
    await submit.get_by_role("button", name="submit").click()
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "approval")
    await expect(page.locator("[data-field='plan']")).to_contain_text("Reimage the disk")
    await expect(page.locator("pre.mermaid")).to_be_attached()
    await screenshot(page, "record")
    await page.get_by_role("button", name="Enlarge").click()
    await expect(page.locator("dialog.diagram-dialog svg")).to_be_visible()
    await page.screenshot(path=str(SCREENSHOTS / "record-diagram.png"))
    await page.keyboard.press("Escape")

    # The dashboard counts this process's records by state category.
    for title in ("VPN drops every hour", "Printer jams", "Mail quota full"):
        r = await site.api.create("alice", key, title=title)
        assert r.status_code == 201, r.text
    await page.goto(site.url(f"/ui/dashboard?definition={key}"))
    records = page.locator(".kpi[data-kpi='records']")
    await expect(records.locator(".kpi-value")).to_have_text("4")
    await expect(records.locator("svg.bars")).to_contain_text("New")  # the category, translated
    await screenshot(page, "dashboard")

    await page.goto(site.url(f"/ui/records?definition={key}"))
    await page.fill("#q", "Printer")
    # filtered in place, no reload (a generous wait: htmx waits for typing to pause, and CI is busy)
    await expect(page.locator("#results tbody tr")).to_have_count(1, timeout=20_000)
    await page.fill("#q", "")
    await expect(page.locator("#results tbody tr")).to_have_count(4, timeout=20_000)
    await screenshot(page, "records")


async def _replace_source(page: Page, text: str) -> None:
    await page.evaluate(
        "(t) => { const v = window.studioEditor;"
        " v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: t}}); }",
        text,
    )


async def test_a_process_owner_fixes_an_error_and_publishes(site: Site, page: Page) -> None:
    key = await site.api.publish_mini()
    await sign_in(page, site, "owner")
    await page.goto(site.url("/ui/studio"))
    await page.locator(f"tr[data-key='{key}']").get_by_role("link", name="Open").click()
    await expect(page.locator("#checks [data-valid]")).to_have_attribute("data-valid", "true")

    # The code editor (studio-editor.js) over the text area: set its text as a paste would.
    source = await page.evaluate("() => window.studioEditor.state.doc.toString()")
    broken = source.replace("category: waiting", "category: sleeping", 1)
    await _replace_source(page, broken)
    issues = page.locator("#issues")
    await expect(issues).to_contain_text("states[2].category")
    await expect(page.locator("#status-line")).to_contain_text("1 problem")
    await issues.get_by_role("button", name="Go to line").click()  # selects the offending line
    selected = await page.evaluate(
        "() => { const s = window.studioEditor.state; return s.sliceDoc(s.selection.main.from, s.selection.main.to); }"
    )
    assert "category: sleeping" in selected
    await page.screenshot(path=str(SCREENSHOTS / "studio-error.png"))

    fixed = broken.replace("category: sleeping", "category: waiting", 1).replace(
        "title: {zh: 测试流程, en: Test process}", "title: {zh: 测试流程, en: Test process v2}", 1
    )
    await _replace_source(page, fixed)
    await expect(page.locator("#checks [data-valid]")).to_have_attribute("data-valid", "true")
    await page.get_by_role("button", name="Save as draft").click()
    await expect(page.locator(".alert-ok")).to_contain_text("draft version 2")
    await page.locator("#versions li[data-version='2']").get_by_role("button", name="Publish").click()
    await page.locator("#confirm-dialog").get_by_role("button", name="Publish").click()
    await page.wait_for_url(re.compile(r".*/ui/studio\?done=published.*"))
    definition_row = page.locator(f"tr[data-key='{key}']")
    await expect(definition_row.locator(".latest")).to_contain_text("v2")
    await expect(definition_row.locator(".latest")).to_contain_text("published")
    await expect(definition_row.locator(".published")).to_contain_text("v2")

    # Compare the two versions: the changed title line shows as removed and added.
    await page.goto(site.url(f"/ui/studio/{key}/compare?a=1&b=2"))
    await expect(page.locator(".d-add")).to_contain_text("Test process v2")
    await screenshot(page, "studio-compare")


async def test_dev_sign_in_follows_the_browser_language_on_a_phone(site: Site, browser: Browser) -> None:
    site.app.state.web.dev_login = True
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    page = await context.new_page()
    try:
        await page.goto(site.url("/ui/sign-in"))
        await expect(page.locator("h2#signin-h")).to_have_text("登录")
        await screenshot(page, "sign-in-dev-phone")
        await page.locator("button.demo-user[data-user='carol']").click()
        await page.wait_for_url("**/ui/inbox")
        await expect(page.locator("h1")).to_have_text("审批")
        await screenshot(page, "inbox-phone-zh")
    finally:
        await context.close()


async def test_chinese_interface_and_sign_out_revokes_the_session(site: Site, page: Page) -> None:
    await sign_in(page, site, "carol")
    await page.get_by_role("link", name="中文").click()
    await expect(page.locator("h1")).to_have_text("审批")
    await expect(page.get_by_role("button", name="退出")).to_be_visible()
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "itf_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert site.api.tokens["carol"] not in session["value"]
    await page.get_by_role("button", name="退出").click()
    await page.wait_for_url("**/ui/sign-in")
    # The old cookie no longer opens anything: signing out revoked its token.
    await page.context.add_cookies([session])
    await page.goto(site.url("/ui/inbox"))
    await page.wait_for_url("**/ui/sign-in?next=/ui/inbox")
