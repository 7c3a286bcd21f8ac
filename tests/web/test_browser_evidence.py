"""Checklists and attachments on the record page, in a real browser (issue 20): a file uploaded through
the form is listed with who added it; the transition's form answers the checklist item by item and the
record moves once the required attachment is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from core.settings import Settings
from tests.api.test_attachments import drill
from tests.web.conftest import Site, open_action, screenshot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(database_url: str, task_queue: str, temporal_address: str, tmp_path: Path) -> Settings:
    """The site's app, with an attachment store of the test's own."""
    return Settings(
        database_url=database_url,
        task_queue=task_queue,
        temporal_address=temporal_address,
        attachment_dir=tmp_path / "files",
    )


async def test_upload_then_answer_the_checklist_and_finish(site: Site, page: Page, tmp_path: Path) -> None:
    number = await drill(site.api)
    report = tmp_path / "drill-report.txt"
    report.write_text("Failover in 4 minutes; no data lost.", encoding="utf-8")
    await sign_in(page, site, "bob")
    await page.goto(site.url(f"/ui/records/{number}"))

    section = page.locator("#attachments")
    await expect(section).to_contain_text("No attachments yet.")
    await section.locator("#att-file").set_input_files(str(report))
    await section.locator("#att-kind").select_option("drill_report")
    await section.get_by_role("button", name="Upload").click()
    await page.wait_for_url(re.compile(r".*/ui/records/[^/#]+#attachments$"))
    await expect(section.locator("tr[data-attachment] a")).to_have_text("drill-report.txt")
    await expect(section.locator("tr[data-attachment]")).to_contain_text("Drill report")
    await expect(section.locator("tr[data-attachment]")).to_contain_text("bob")

    action = await open_action(page, "finish")
    await expect(action).to_contain_text("Within 5 minutes")  # the item's criteria for normal
    await action.locator("input[name='f.checks.failover'][value='pass']").check()
    await action.locator("input[name='f.checks.data'][value='n/a']").check()
    await action.locator("input[name='f.checks.data.note']").fill("read-only replica")
    await screenshot(page, "record-checklist")
    await action.locator("button[type=submit]").click()
    await expect(page.locator("#record-state")).to_have_attribute("data-state", "done")
    record = (await site.api.get("bob", f"/api/v1/processes/{number}")).json()
    assert record["fields"]["checks"] == {
        "failover": {"result": "pass", "note": ""},
        "data": {"result": "n/a", "note": "read-only replica"},
    }
