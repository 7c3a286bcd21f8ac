"""The studio's code editor in Chromium, in Chinese and English: the check's problems as markers in the
editor, saving with problems refused where the owner is looking, completions and hovers from the JSON
Schema, publishing only after a confirmation; and the plain text area when the bundle is absent."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import Site, screenshot, sign_in

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "problems": "1 problem",
        "not_saved": "Not saved",
        "saved": "draft version 2",
        "save": "Save as draft",
        "publish": "Publish",
        "confirm": "New records get it at once",
        "type_text": "text",
        "hover": "Letters before each record's number",
        "message": "should be in category closed",
    },
    "zh": {
        "problems": "1 个问题",
        "not_saved": "未保存",
        "saved": "草稿第 2 版",
        "save": "保存为草稿",
        "publish": "发布",
        "confirm": "新建的记录立即使用此版本",
        "type_text": "文本",
        "hover": "记录编号前的字母",
        "message": "应属于 closed 类别",
    },
}


async def _in_language(page: Page, site: Site, lang: str, path: str) -> None:
    await page.goto(site.url(f"/ui/lang/{lang}?next={path}"))


async def select_text(page: Page, text: str) -> None:
    """Select the first occurrence of `text` in the editor, as a mouse drag would."""
    await page.evaluate(
        """(text) => { const v = window.studioEditor; const at = v.state.doc.toString().indexOf(text);
           v.dispatch({selection: {anchor: at, head: at + text.length}}); v.focus(); }""",
        text,
    )


async def editor_text(page: Page) -> str:
    text: str = await page.evaluate("() => window.studioEditor.state.doc.toString()")
    return text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_problems_are_marked_in_the_editor_and_saving_them_says_not_saved(
    site: Site, page: Page, lang: str
) -> None:
    words = WORDS[lang]
    key = await site.api.publish_mini()
    await sign_in(page, site, "owner")
    await _in_language(page, site, lang, f"/ui/studio/{key}")
    editor = page.locator("#code-editor .cm-editor")
    await expect(editor).to_be_visible()
    await expect(page.locator("#source")).to_be_hidden()  # the text area stays in the form, hidden
    await expect(page.locator("#checks [data-valid]")).to_have_attribute("data-valid", "true")
    await expect(page.locator(".cm-lintRange-error")).to_have_count(0)

    # The owner types a final state's category wrong: the live check's problem becomes a marker.
    await select_text(page, "category: closed, final: true")
    await page.keyboard.type("category: waiting, final: true")
    await expect(page.locator("#status-line")).to_contain_text(words["problems"])
    marker = page.locator(".cm-lintRange-error")
    await expect(marker).to_have_count(1)
    await expect(page.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    await marker.scroll_into_view_if_needed()
    await marker.hover(position={"x": 24, "y": 6})
    tooltip = page.locator(".cm-tooltip-lint")
    await expect(tooltip).to_contain_text("states[5].category")
    await expect(tooltip).to_contain_text(words["message"])
    await screenshot(page, f"studio-editor-marker-{lang}")

    # Saving now: "not saved" beside the button, the cursor on the problem, nothing stored.
    await page.get_by_role("button", name=words["save"]).click()
    status = page.locator("#save-status")
    await expect(status).to_be_visible()
    await expect(status).to_contain_text(words["not_saved"])
    assert (
        await page.evaluate(
            "() => { const v = window.studioEditor; return v.state.doc.lineAt(v.state.selection.main.head).text; }"
        )
        == "  - {name: closed, category: waiting, final: true, label: {zh: 已关闭, en: Closed}}"
    )
    await expect(page).to_have_url(re.compile(rf".*/ui/studio/{key}$"))
    await expect(page.locator("#versions li")).to_have_count(1)

    # Fixed and saved: a new draft; publishing asks first, then publishes.
    await select_text(page, "category: waiting, final: true")
    await page.keyboard.type("category: closed, final: true")
    await select_text(page, "en: Test process}")
    await page.keyboard.type("en: Test process v2}")
    await expect(page.locator("#checks [data-valid]")).to_have_attribute("data-valid", "true")
    await expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    await page.get_by_role("button", name=words["save"]).click()
    await expect(page.locator(".alert-ok")).to_contain_text(words["saved"])
    assert "Test process v2" in await editor_text(page)

    await page.locator("#versions li[data-version='2']").get_by_role("button", name=words["publish"]).click()
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(words["confirm"])
    await screenshot(page, f"studio-confirm-{lang}")
    await dialog.get_by_role("button", name=words["publish"]).click()
    await page.wait_for_url(re.compile(r".*/ui/studio\?done=published.*"))
    await expect(page.locator(f"tr[data-key='{key}'] .published")).to_contain_text("v2")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_completions_and_hovers_come_from_the_schema(site: Site, page: Page, lang: str) -> None:
    await sign_in(page, site, "owner")
    await _in_language(page, site, lang, "/ui/studio/new")
    await expect(page.locator("#code-editor .cm-editor")).to_be_visible()
    await expect(page.locator("#editor-keys")).to_be_visible()

    # Hover a key: what it takes, in the page's language.
    line = page.locator(".cm-line").filter(has_text=re.compile(r"^number_prefix:"))
    await line.hover(position={"x": 12, "y": 6})
    hover = page.locator(".cm-tooltip-hover .cm-schema-hover")
    await expect(hover).to_contain_text(WORDS[lang]["type_text"])
    await expect(hover).to_contain_text(WORDS[lang]["hover"])
    await page.mouse.move(0, 0)

    # Ctrl-Space at the top level offers the language's keys.
    await page.evaluate(
        "() => { const v = window.studioEditor; const end = v.state.doc.length;"
        " v.dispatch({selection: {anchor: end}}); v.focus(); }"
    )
    await page.keyboard.type("version_n")
    await page.keyboard.press("Control+Space")
    options = page.locator(".cm-tooltip-autocomplete")
    await expect(options.locator("li[aria-selected=true]")).to_contain_text("version_note")
    await page.wait_for_timeout(200)  # CodeMirror ignores Enter in the list's first 75 ms
    await page.keyboard.press("Enter")
    assert "version_note" in await editor_text(page)


async def test_a_page_without_the_editor_bundle_keeps_the_text_area(site: Site, page: Page) -> None:
    """Without script (or before set-up built the bundle) the studio is the plain text area, and
    publishing asks on a page of its own."""
    key = await site.api.publish_mini()
    await page.route(re.compile(r".*/static/vendor/studio-editor.*"), lambda route: route.abort())
    await sign_in(page, site, "owner")
    await page.goto(site.url(f"/ui/studio/{key}"))
    await expect(page.locator("#source")).to_be_visible()
    await expect(page.locator(".cm-editor")).to_have_count(0)
    await page.locator("#source").fill((await page.locator("#source").input_value()) + "\n# note\n")
    await expect(page.locator("#checks [data-valid]")).to_have_attribute("data-valid", "true")
