"""The page's plumbing without a browser: static files under content-hashed names, cached for a year
and compressed; Mermaid linked from no page, fetched only by the script when a diagram is shown;
unknown pages answered with a page in the reader's language; the API's 404 still JSON."""

from __future__ import annotations

import gzip
import re

import brotli  # type: ignore[import-untyped]
import httpx

from api.web.common import STATIC
from api.web.session import LANG_COOKIE
from tests.web.test_pages import _sign_in, http  # noqa: F401 - the app behind an ASGI client


async def _raw(client: httpx.AsyncClient, url: str, accept: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (httpx would decode gzip and brotli)."""
    async with client.stream("GET", url, headers={"Accept-Encoding": accept}) as r:
        return r, b"".join([chunk async for chunk in r.aiter_raw()])


async def test_static_files_have_hashed_names_far_future_caching_and_compression(
    http: httpx.AsyncClient,  # noqa: F811
    tokens: dict[str, str],
) -> None:
    await _sign_in(http, tokens, "owner")
    page = await http.get("/ui/inbox")
    css = re.search(r'href="(/static/app\.([0-9a-f]{12})\.css)"', page.text)
    assert css is not None, "the stylesheet is linked by its hashed name"
    plain = (STATIC / "app.css").read_bytes()

    r, body = await _raw(http, css.group(1), "br, gzip")
    assert r.status_code == 200 and r.headers["content-encoding"] == "br"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "accept-encoding" in r.headers["vary"].lower()
    assert brotli.decompress(body) == plain and len(body) < len(plain) / 3

    r, body = await _raw(http, css.group(1), "gzip")
    assert r.headers["content-encoding"] == "gzip" and gzip.decompress(body) == plain
    r, body = await _raw(http, css.group(1), "identity")
    assert "content-encoding" not in r.headers and body == plain

    # The plain name still answers, revalidated; an ETag answers 304.
    r = await http.get("/static/app.css")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    again = await http.get("/static/app.css", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # A hash that is not the file's current one is not served as immutable.
    stale = await http.get("/static/app.000000000000.css")
    assert stale.status_code == 404
    for path in ("/static/../pyproject.toml", "/static/vendor/.gitignore", "/static/app.css.gz"):
        assert (await http.get(path)).status_code == 404
    assert (await http.post("/static/app.css")).status_code == 405


async def test_mermaid_is_not_loaded_by_any_page_and_is_sent_compressed(
    http: httpx.AsyncClient,  # noqa: F811
    tokens: dict[str, str],
) -> None:
    await _sign_in(http, tokens, "owner")
    page = await http.get("/ui/inbox")
    assert "<script" in page.text and "mermaid.min" not in re.sub(r'data-mermaid="[^"]*"', "", page.text)
    mermaid = STATIC / "vendor" / "mermaid.min.js"
    if not mermaid.exists():  # fetched at set-up (python -m api.web.vendor)
        return
    url = re.search(r'data-mermaid="([^"]+)"', page.text)
    assert url is not None and re.fullmatch(r"/static/vendor/mermaid\.min\.[0-9a-f]{12}\.js", url.group(1))
    r, body = await _raw(http, url.group(1), "gzip, br")
    assert r.headers["content-encoding"] == "br" and len(body) < mermaid.stat().st_size / 3
    assert brotli.decompress(body) == mermaid.read_bytes()  # precompressed at set-up, the same file


async def test_an_unknown_page_is_a_page_in_the_readers_language(
    http: httpx.AsyncClient,  # noqa: F811
    tokens: dict[str, str],
) -> None:
    r = await http.get("/ui/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "没有这个页面" in r.text and 'lang="zh-CN"' in r.text
    await _sign_in(http, tokens, "owner")
    r = await http.get("/ui/nothing/here", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and "There is no such page" in r.text
    assert 'href="/ui/inbox"' in r.text  # the signed-in reader's way back
    r = await http.put("/ui/inbox", headers={"Accept-Language": "en"})
    assert r.status_code == 405 and "does not take this kind of request" in r.text
    # The API keeps its problem details.
    r = await http.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_a_page_address_that_does_not_parse_is_a_page_in_the_readers_language(
    http: httpx.AsyncClient,  # noqa: F811
    tokens: dict[str, str],
) -> None:
    await _sign_in(http, tokens, "owner")
    http.cookies.set(LANG_COOKIE, "zh")
    # An unknown download format is no page at all.
    r = await http.get("/ui/records/export.pdf")
    assert r.status_code == 404 and "没有这个页面" in r.text
    # A query value the page does not know: its words, not the API's field keys.
    r = await http.get("/ui/dashboard/export.csv?table=bogus")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "无法识别的参数" in r.text and "table" not in r.text.split("<main", 1)[-1]
    http.cookies.set(LANG_COOKIE, "en")
    r = await http.get("/ui/dashboard/export.csv?table=bogus")
    assert r.status_code == 422 and "does not understand" in r.text
