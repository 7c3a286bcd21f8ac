"""The main pages checked by axe-core inside Chromium, in Chinese and English: no serious or critical
violation (WCAG 2.2 A/AA rules and axe's best practices). axe-core comes from the npm registry at
test set-up (`python -m api.web.vendor --test-tools`, run by scripts/test-deps.sh) and is injected
into each page after it loaded, with its scripts (the studio's editor, the diagrams) done."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from sqlalchemy import Engine

from api.web.vendor import TEST_TOOLS
from tests.web.conftest import Site, sign_in
from tests.web.test_cmdb_pages import _landscape

pytestmark = pytest.mark.browser

AXE = next(iter(TEST_TOOLS["axe-core@4.14.1"].values()))
SERIOUS = ("serious", "critical")


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/test-deps.sh (python -m api.web.vendor --test-tools)")
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


async def _in(page: Page, site: Site, lang: str, path: str) -> None:
    await page.goto(site.url(f"/ui/lang/{lang}?next={path}"))
    await page.wait_for_load_state("networkidle")


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A tab that lets axe's injected script run: the pages' Content-Security-Policy allows only their
    own files (the check is the test's, not the page's)."""
    context = await browser.new_context(viewport={"width": 1360, "height": 900}, bypass_csp=True)
    context.set_default_timeout(20_000)
    yield await context.new_page()
    await context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_main_pages_have_no_serious_accessibility_violations(
    site: Site, page: Page, db_engine: Engine, lang: str
) -> None:
    key = await site.api.publish_mini()
    r = await site.api.create("bob", key, title="打印机着火" if lang == "zh" else "Printer on fire")
    assert r.status_code == 201, r.text
    record = r.json()["id"]
    ci = _landscape(db_engine, uuid.uuid4().hex[:6])["app"]
    found: dict[str, list[dict[str, Any]]] = {}

    await page.goto(site.url(f"/ui/lang/{lang}?next=/ui/sign-in"))
    found["sign-in"] = await violations(page)

    await sign_in(page, site, "bob")
    for name, path in (
        ("inbox", "/ui/inbox"),
        ("records", "/ui/records"),
        ("record", f"/ui/records/{record}"),
        ("new record", f"/ui/records/new?definition={key}"),
        ("cmdb", "/ui/cmdb"),
        ("cmdb ci", f"/ui/cmdb/cis/{ci}"),
    ):
        await _in(page, site, lang, path)
        found[name] = await violations(page)

    await page.context.clear_cookies()
    await sign_in(page, site, "owner")
    for name, path in (("studio", "/ui/studio"), ("dashboard", "/ui/dashboard")):
        await _in(page, site, lang, path)
        found[name] = await violations(page)
    await _in(page, site, lang, f"/ui/studio/{key}")
    await expect(page.locator("#code-editor .cm-editor")).to_be_visible()
    found["studio editor"] = await violations(page)

    bad = {name: v for name, v in found.items() if v}
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
