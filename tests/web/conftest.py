"""Browser fixtures: the real app served by uvicorn on a free port, and Debian's Chromium via Playwright.

The server runs as a task in the session event loop, beside the Temporal client and the test's worker,
so the pages act on real workflows. Playwright drives /usr/bin/chromium (never a downloaded browser).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Locator, Page, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings
from tests.api.conftest import Api, settings, tokens  # noqa: F401 - fixtures shared with the API tests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Site:
    """The running app: its base URL and an API client for setting up records."""

    def __init__(self, base_url: str, api: Api, app: FastAPI) -> None:
        self.base_url = base_url
        self.api = api
        self.app = app

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest_asyncio.fixture(loop_scope="session")
async def site(
    settings: Settings,  # noqa: F811
    temporal_client: Client,
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
    worker: object,
) -> AsyncIterator[Site]:
    app = create_app(settings, client=temporal_client, engine=db_engine)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the reason it stopped
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        yield Site(base, Api(http, tokens), app)
    server.should_exit = True
    await task


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    tab = await context.new_page()
    yield tab
    await context.close()


async def sign_in(page: Page, site: Site, username: str) -> None:
    """Sign in through the form with the user's API token, as a person would; the pages in English
    (the switch's choice, over the language of the user's profile)."""
    await page.goto(site.url("/ui/lang/en?next=/ui/sign-in"))
    await page.click("details.token-signin summary")
    await page.fill("#token-username", username)
    await page.fill("#token", site.api.tokens[username])
    await page.click("details.token-signin button[type=submit]")
    await page.wait_for_url("**/ui/inbox")


async def sign_out(page: Page) -> None:
    await page.click("form[action='/ui/sign-out'] button")
    await page.wait_for_url("**/ui/sign-in")


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top of the picture
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def open_action(page: Page, trigger: str) -> Locator:
    """Open a record page's action as a person would: the likely next step is open already; the others
    sit behind "other actions" (issue 16)."""
    action = page.locator(f"details.action[data-trigger='{trigger}']")
    if await action.evaluate(
        "d => !!d.closest('details.more-actions') && !d.closest('details.more-actions').open"
    ):
        await page.locator("details.more-actions > summary").click()
    if not await action.evaluate("d => d.open"):
        await action.locator(":scope > summary").click()
    return action


# Each daily task runs in both languages and on both screens (issue 16).
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1360, "height": 900}}


async def new_page(browser: Browser, screen: str) -> Page:
    """A fresh browser context on a phone's or a desktop's screen (close it with `page.context`)."""
    context = await browser.new_context(viewport=SCREENS[screen], is_mobile=screen == "phone")  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return await context.new_page()
