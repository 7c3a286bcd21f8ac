"""New records and field edits from the page, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import Site, screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_an_agent_creates_an_incident_and_edits_its_priority(site: Site, page: Page) -> None:
    key = await site.api.publish_mini()
    await sign_in(page, site, "bob")
    await page.goto(site.url("/ui/records"))
    await page.get_by_role("link", name="New record").click()
    await page.locator(f"a.proc-card[data-key='{key}']").click()
    await expect(page.locator("h1")).to_have_text("New Test process")

    # Urgency but no impact: the engine refuses and the page names the field, keeping what was typed.
    await page.fill("#nf-title", "Payroll server unreachable")
    await page.select_option("#nf-urgency", "1")
    await page.fill("#nf-risk", "2")
    await page.get_by_role("button", name="Create record").click()
    impact = page.locator(".fld[data-input='impact']")
    await expect(impact.locator(".field-error")).to_have_text("Required")
    await expect(page.locator(".form-problem")).to_contain_text("Check the fields marked below")
    await expect(page.locator("#nf-impact")).to_be_focused()
    await expect(page.locator("#nf-title")).to_have_value("Payroll server unreachable")
    await expect(page.locator("#nf-urgency")).to_have_value("1")
    await screenshot(page, "record-new")

    await page.select_option("#nf-impact", "2")
    await page.get_by_role("button", name="Create record").click()
    await page.wait_for_url(re.compile(r".*/ui/records/MIN\d+$"))
    await expect(page.locator("h1")).to_have_text("Payroll server unreachable")
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "new")
    await expect(page.locator(".chip-p2")).to_have_text("Priority 2")  # impact 2 × urgency 1

    # Edit impact and urgency outside a transition: the matrix gives priority 1.
    edit = page.locator("details#edit")
    await edit.locator("summary").click()
    await expect(edit.locator("#ef-impact")).to_have_value("2")
    await edit.locator("#ef-impact").select_option("1")
    await edit.locator("#ef-comment").fill("Whole finance team affected")
    await screenshot(page, "record-edit")
    await edit.get_by_role("button", name="Save changes").click()
    await expect(page.locator(".chip-p1")).to_have_text("Priority 1")
    await expect(page.locator("[data-field='impact']")).to_contain_text("1")
    await expect(page.locator("#history")).to_contain_text("Whole finance team affected")


async def test_read_only_fields_are_disabled_in_the_edit_form(site: Site, page: Page) -> None:
    key = await site.api.publish_mini()
    r = await site.api.create("alice", key, title="Patch the mail relay", risk=2)
    assert r.status_code == 201, r.text
    rec = r.json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    r = await site.api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert r.status_code == 200, r.text
    r = await site.api.post(
        "bob", url, {"trigger": "submit", "fields": {"plan": "Rolling restart", "backout_plan": "Revert"}}
    )
    assert r.status_code == 200 and r.json()["state"] == "approval", r.text

    await sign_in(page, site, "bob")
    await page.goto(site.url(f"/ui/records/{rec['number']}"))
    edit = page.locator("details#edit")
    await edit.locator("summary").click()
    await expect(edit.locator("#ef-plan")).to_be_disabled()  # `readonly: [plan]` in approval
    await expect(edit.locator("#ef-backout_plan")).to_be_enabled()
    await expect(edit.locator("#ef-priority")).to_have_count(0)  # derived, never edited
