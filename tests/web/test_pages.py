"""The pages' guards without a browser: sessions, CSRF, origins, roles, languages, local assets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from api.web.common import STATIC
from api.web.i18n import from_accept_language
from api.web.session import COOKIE, Signer
from core.settings import Settings

BASE = "http://web.test"


@pytest_asyncio.fixture(loop_scope="session")
async def http(
    settings: Settings,
    temporal_client: Client,
    db_engine: Engine,
    tokens: dict[str, str],
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, client=temporal_client, engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def _sign_in(http: httpx.AsyncClient, tokens: dict[str, str], user: str) -> str:
    """Signs in through the form; returns the CSRF token the pages carry."""
    r = await http.post("/ui/sign-in", data={"username": user, "token": tokens[user]})
    assert r.status_code == 303 and r.headers["location"] == "/ui/inbox", r.text
    page = await http.get("/ui/inbox")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


async def test_sign_in_needs_a_matching_token(http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    r = await http.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in"
    r = await http.post("/ui/sign-in", data={"username": "carol", "token": tokens["dave"]})
    assert r.status_code == 401 and "do not match" in r.text
    # Without dev mode, a username alone signs nobody in.
    r = await http.post("/ui/sign-in", data={"username": "carol"})
    assert r.status_code == 401 and COOKIE not in r.cookies
    r = await http.get("/ui/inbox")
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in?next=/ui/inbox"


async def test_a_tampered_cookie_is_no_session(http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    await _sign_in(http, tokens, "carol")
    value = http.cookies[COOKIE]
    forged = Signer(b"not the server's key").sign({"u": "owner", "t": "x", "iat": 2**31})
    for cookie in (value[:-2] + "AA", forged):
        http.cookies.set(COOKIE, cookie)
        r = await http.get("/ui/inbox")
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/sign-in")


async def test_posts_need_the_csrf_token_and_this_origin(
    http: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    csrf = await _sign_in(http, tokens, "owner")
    source = "key: x\n"
    r = await http.post("/ui/studio/validate", data={"source": source})
    assert r.status_code == 403 and "form has expired" in r.text
    r = await http.post(
        "/ui/studio/validate", data={"source": source, "csrf": csrf}, headers={"Origin": "https://evil.test"}
    )
    assert r.status_code == 403 and "another site" in r.text
    r = await http.post(
        "/ui/studio/validate", data={"source": source, "csrf": csrf}, headers={"Origin": BASE}
    )
    assert r.status_code == 200 and 'data-valid="false"' in r.text
    r = await http.post("/ui/studio/validate", data={"source": source}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and "states" in r.text


async def test_pages_enforce_the_api_roles(http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    csrf = await _sign_in(http, tokens, "bob")
    r = await http.post("/ui/studio/save", data={"source": "key: x\n", "csrf": csrf})
    assert r.status_code == 403 and "needs the role Process owner or Administrator; bob has Agent" in r.text
    page = await http.get("/ui/inbox")
    assert 'href="/ui/studio"' not in page.text and 'href="/ui/dashboard"' in page.text

    await _sign_in(http, tokens, "alice")
    r = await http.get("/ui/dashboard")
    assert r.status_code == 403 and "alice has Requester" in r.text
    r = await http.get("/ui/studio/new")
    assert r.status_code == 403


async def test_language_follows_the_browser_then_the_switch(
    http: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    assert from_accept_language("fr-FR, zh-TW;q=0.8, en;q=0.5") == "zh"
    assert from_accept_language("de, fr;q=0.9") is None
    r = await http.get("/ui/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-CN"' in r.text and "登录" in r.text
    r = await http.get("/ui/lang/en", params={"next": "/ui/sign-in"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in"
    r = await http.get("/ui/sign-in", headers={"Accept-Language": "zh-CN"})
    assert 'lang="en"' in r.text
    # Only this site's paths are followed after a switch or a sign-in.
    r = await http.get("/ui/lang/zh", params={"next": "//evil.test/x"})
    assert r.headers["location"] == "/ui/inbox"


async def test_every_asset_is_served_by_the_app(http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    await _sign_in(http, tokens, "owner")
    page = await http.get("/ui/studio")
    sources = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for path in ("/static/htmx.min.js", "/static/app.css", "/static/app.js"):
        assert (await http.get(path)).status_code == 200
    docs = await http.get("/docs")
    assert docs.status_code == 200
    if (STATIC / "vendor" / "swagger-ui-bundle.js").exists():  # fetched at setup by api.web.vendor
        assert re.search(r"/static/vendor/swagger-ui-bundle\.[0-9a-f]{12}\.js", docs.text)
        assert "cdn.jsdelivr" not in docs.text


async def test_an_unknown_page_is_an_html_page_in_the_readers_language(http: httpx.AsyncClient) -> None:
    r = await http.get("/ui/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "没有这个页面" in r.text
