"""The API's own refusals in the caller's language: the signed-in user's profile, else the request's
Accept-Language; `type` and `errors[].path` are the same in both, for programs."""

from __future__ import annotations

import httpx

from tests.api.conftest import Api


async def test_refusals_follow_the_callers_profile_language(api: Api) -> None:
    zh = await api.get("carol", "/api/v1/processes/NOPE0000001")  # carol reads Chinese
    en = await api.get("bob", "/api/v1/processes/NOPE0000001")
    assert (zh.status_code, en.status_code) == (404, 404)
    assert zh.json()["detail"] == "没有记录“NOPE0000001”" and en.json()["detail"] == "no record 'NOPE0000001'"
    assert zh.json()["type"] == en.json()["type"] == "urn:itilflow:problem:notfound"

    zh = await api.post("carol", "/api/v1/processes", {"title": "no definition"})
    assert zh.status_code == 422 and zh.json()["detail"].startswith("请求格式有误")
    assert {"path": "body.definition", "message": "必填"} in zh.json()["errors"]


async def test_without_a_user_the_request_says_which_language(api: Api) -> None:
    r = await api.http.get("/api/v1/processes", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert r.status_code == 401 and r.json()["detail"].startswith("需要有效的 API 令牌")
    r = await api.http.get("/api/v1/processes")
    assert r.status_code == 401 and r.json()["detail"].startswith("a valid API token is required")
    assert isinstance(r, httpx.Response)
