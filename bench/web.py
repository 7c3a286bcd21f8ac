"""The web page's weight and load time: the main pages in Chromium, on a started `itilflow dev`.

    python -m bench.web [--quick] [--loads N] [--url URL --tokens-file FILE]

Each page is loaded N times in a fresh browser context (an empty cache: a first visit, signed in)
and N times again in one context (a return visit: what the cache keeps is not fetched). Bytes are
what crossed the network (compressed bodies plus headers, from Chromium's own accounting), until the
network is idle, so what a page fetches after its load event (a diagram's renderer, the studio's
editor) counts. Load ms is the navigation's load event. Printed per page; the last line is one JSON
object: `{"pages": {name: {"bytes", "requests", "p50_ms", "repeat_bytes", "repeat_p50_ms"}}, "loads"}`.
Debian's Chromium (/usr/bin/chromium) through Playwright; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, StorageState, ViewportSize, async_playwright

from bench.common import Target, dev_subprocess, percentile

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
VIEWPORT: ViewportSize = {"width": 1360, "height": 900}


async def _pages(target: Target) -> list[tuple[str, str, str | None]]:
    """(name, path, who signs in) of the main pages, on the demo's records and definitions."""
    async with httpx.AsyncClient(base_url=target.base, timeout=30) as http:
        auth = {"Authorization": f"Bearer {target.tokens['agent']}"}
        records = (await http.get("/api/v1/processes", headers=auth)).json()
    items = records["items"] if isinstance(records, dict) else records
    record = items[0]["id"]
    return [
        ("sign-in", "/ui/sign-in", None),
        ("inbox", "/ui/inbox", "cab1"),
        ("records", "/ui/records", "agent"),
        ("record", f"/ui/records/{record}", "agent"),
        ("new record", "/ui/records/new?definition=incident", "agent"),
        ("studio", "/ui/studio", "owner"),
        ("studio editor", "/ui/studio/incident", "owner"),
        ("dashboard", "/ui/dashboard", "owner"),
        ("cmdb", "/ui/cmdb", "agent"),
    ]


async def _signed_in_state(browser: Browser, target: Target, user: str) -> StorageState:
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{target.base}/ui/sign-in")
    await page.click("details.token-signin summary")
    await page.fill("#token-username", user)
    await page.fill("#token", target.tokens[user])
    await page.click("details.token-signin button[type=submit]")
    await page.wait_for_url("**/ui/inbox")
    state = await context.storage_state()
    await context.close()
    return state


async def _load(page: Page, url: str) -> tuple[int, int, float]:
    """(bytes over the network, requests, load ms) of one navigation."""
    sizes: list[Any] = []

    def finished(request: Any) -> None:
        sizes.append(request.sizes())

    page.on("requestfinished", finished)
    await page.goto(url, wait_until="load")
    await page.wait_for_load_state("networkidle")
    # Mermaid is fetched when a diagram scrolls into view: show the reader the whole page.
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    await page.wait_for_load_state("networkidle")
    load_ms: float = await page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n.loadEventEnd - n.startTime; }"
    )
    page.remove_listener("requestfinished", finished)
    done = [await s for s in sizes]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in done)
    return total, len(done), load_ms


async def _context(browser: Browser, state: StorageState | None) -> BrowserContext:
    """A fresh context: an empty cache, signed in when `state` holds a session cookie."""
    return await browser.new_context(viewport=VIEWPORT, locale="zh-CN", storage_state=state)


async def _measure(browser: Browser, target: Target, loads: int) -> dict[str, dict[str, Any]]:
    states: dict[str, StorageState] = {}
    out: dict[str, dict[str, Any]] = {}
    for name, path, user in await _pages(target):
        if user and user not in states:
            states[user] = await _signed_in_state(browser, target, user)
        url = target.base + path
        first: list[tuple[int, int, float]] = []
        for _ in range(loads):
            context = await _context(browser, states.get(user or ""))
            first.append(await _load(await context.new_page(), url))
            await context.close()
        again: list[tuple[int, int, float]] = []
        context = await _context(browser, states.get(user or ""))
        page = await context.new_page()
        await _load(page, url)  # fills the cache
        for _ in range(loads):
            again.append(await _load(page, url))
        await context.close()
        out[name] = {
            "bytes": int(percentile([float(b) for b, _, _ in first], 50)),
            "requests": first[0][1],
            "p50_ms": round(percentile([ms for _, _, ms in first], 50), 1),
            "repeat_bytes": int(percentile([float(b) for b, _, _ in again], 50)),
            "repeat_p50_ms": round(percentile([ms for _, _, ms in again], 50), 1),
        }
        row = out[name]
        print(
            f"{name:14} first visit {row['bytes'] / 1024:8.1f} KiB in {row['requests']:2} requests, "
            f"p50 {row['p50_ms']:6.1f} ms | return visit {row['repeat_bytes'] / 1024:7.1f} KiB, "
            f"p50 {row['repeat_p50_ms']:6.1f} ms",
            flush=True,
        )
    return out


async def run(target: Target, loads: int) -> dict[str, Any]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pages = await _measure(browser, target, loads)
        finally:
            await browser.close()
    return {"pages": pages, "loads": loads}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.web", description=__doc__.split("\n\n")[0] if __doc__ else "")
    p.add_argument("--quick", action="store_true", help="3 loads of each page each way")
    p.add_argument("--loads", type=int, default=10, help="loads of each page, each way")
    p.add_argument("--url", help="a running `itilflow dev` with its demo (default: start one)")
    p.add_argument("--tokens-file", help="its demo-tokens.json (with --url)")
    p.add_argument("--log-level", default="warning", help="log level of the started `itilflow dev`")
    args = p.parse_args(argv)
    loads = 3 if args.quick else args.loads
    if args.url:
        if not args.tokens_file:
            p.error("--url needs --tokens-file")
        tokens = {u: i["token"] for u, i in json.loads(Path(args.tokens_file).read_text()).items()}
        result = asyncio.run(run(Target(args.url.rstrip("/"), tokens, "", ""), loads))
    else:
        with dev_subprocess(args.log_level, demo=True) as target:
            result = asyncio.run(run(target, loads))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
