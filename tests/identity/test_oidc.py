"""OpenID Connect sign-in end to end: a real provider process (the PyPI package `oidc-provider-mock`,
a Flask app on authlib, started as `python -m oidc_provider_mock` on a free port), the real app, and
the browser's part played by httpx: the app's redirect to the provider, the provider's login form,
its redirect back with a code, the app's server-side code exchange and ID token checks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from api.identity import oidc
from api.web.signin import OIDC_COOKIE
from core.db import session_scope
from core.settings import GroupGrant, Settings
from core.store import user_groups
from core.tables import AdminEventRow, UserRow

TAG = uuid.uuid4().hex[:6]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The issuer URL of a provider process that requires a nonce; stopped after the module."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce", "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the OIDC provider exited"
            assert time.monotonic() < deadline, "the OIDC provider did not start"
            time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


GROUP_MAP = {
    "itil-change-managers": GroupGrant(groups=[f"cab{TAG}"], roles=["approver", "agent"]),
    "itil-auditors": GroupGrant(roles=["auditor"]),
}


@pytest.fixture
def oidc_settings(make_settings: Callable[..., Settings], provider: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "oidc_issuer": provider,
            "oidc_client_id": f"itilflow-{TAG}",
            "oidc_client_secret": "client-secret-for-tests",
            "oidc_group_map": GROUP_MAP,
            "oidc_label": "Bank SSO",
            **overrides,
        }
        return make_settings(**values)

    return build


def _put_user(issuer: str, sub: str, claims: dict[str, Any]) -> None:
    r = httpx.put(f"{issuer}/users/{quote(sub)}", json={"sub": sub, **claims}, timeout=10)
    assert r.status_code == 204, r.text


async def _to_provider(http: httpx.AsyncClient, next_url: str = "/ui/records") -> str:
    page = await http.get("/ui/sign-in")
    assert 'id="sso"' in page.text and "Bank SSO" in page.text
    r = await http.get("/ui/sign-in/oidc", params={"next": next_url})
    assert r.status_code == 303 and OIDC_COOKIE in r.cookies
    return r.headers["location"]


def _at_provider(location: str, sub: str, action: str | None = None) -> str:
    """The browser at the provider: its login form, then the redirect back to the app."""
    with httpx.Client(timeout=10) as browser:
        form = browser.get(location)
        assert form.status_code == 200 and "<form" in form.text
        data = {"sub": sub} if action is None else {"sub": sub, "action": action}
        r = browser.post(location, data=data)
        assert r.status_code in (302, 303), r.text
        return r.headers["location"]


async def _back_at_app(http: httpx.AsyncClient, callback: str) -> httpx.Response:
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}" == str(http.base_url).rstrip("/")
    return await http.get(f"{parts.path}?{parts.query}")


async def test_authorization_code_flow_with_pkce_creates_the_user(
    web: Any, oidc_settings: Callable[..., Settings], provider: str, db_engine: Engine
) -> None:
    sub, username = f"sub-{TAG}-1", f"mei{TAG}"
    _put_user(
        provider,
        sub,
        {
            "preferred_username": username,
            "email": f"{username}@bank.test",
            "name": "Mei Zhang",
            "groups": ["itil-change-managers", "unmapped-group"],
        },
    )
    async with web(oidc_settings()) as http:
        location = await _to_provider(http)
        query = parse_qs(urlsplit(location).query)
        assert location.startswith(f"{provider}/oauth2/authorize")
        assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
        assert query["code_challenge"][0] and query["nonce"][0] and query["state"][0]
        assert query["redirect_uri"] == ["http://itilflow.test/ui/sign-in/oidc/callback"]
        assert "openid" in query["scope"][0].split()

        r = await _back_at_app(http, _at_provider(location, sub))
        assert r.status_code == 303 and r.headers["location"] == "/ui/records", r.text
        page = await http.get("/ui/account")
        assert page.status_code == 200 and "Mei Zhang" in page.text
    with session_scope(db_engine) as session:
        user = session.get(UserRow, username)
        assert user is not None and user.auth_source == "oidc" and user.external_id == f"{provider}#{sub}"
        assert sorted(user.roles) == ["agent", "approver", "requester"] and user.password_hash is None
        assert user_groups(session, username) == [f"cab{TAG}"]
        assert session.exec(
            select(AdminEventRow).where(AdminEventRow.actor == "oidc", AdminEventRow.target == username)
        ).first()

    # At the next sign-in the claims decide again: out of the change managers, into the auditors.
    _put_user(
        provider, sub, {"preferred_username": username, "name": "Mei Zhang", "groups": ["itil-auditors"]}
    )
    async with web(oidc_settings()) as http:
        r = await _back_at_app(http, _at_provider(await _to_provider(http), sub))
        assert r.status_code == 303
    with session_scope(db_engine) as session:
        user = session.get(UserRow, username)
        assert user is not None and sorted(user.roles) == ["auditor", "requester"]
        assert user_groups(session, username) == []


async def test_a_forged_state_an_old_code_and_a_denial_sign_nobody_in(
    web: Any, oidc_settings: Callable[..., Settings], provider: str
) -> None:
    sub = f"sub-{TAG}-2"
    _put_user(provider, sub, {"preferred_username": f"li{TAG}", "groups": []})
    async with web(oidc_settings()) as http:
        callback = _at_provider(await _to_provider(http), sub)
        forged = callback.replace("state=", "state=x")
        r = await _back_at_app(http, forged)
        assert r.status_code == 401 and "did not succeed" in r.text and "itf_session" not in r.cookies

        # The callback without the cookie the app set when the flow began (another browser, or expired).
        location = await _to_provider(http)
        http.cookies.delete(OIDC_COOKIE, path="/ui/sign-in/oidc")
        r = await _back_at_app(http, _at_provider(location, sub))
        assert r.status_code == 401 and "expired" in r.text

        # A code is good once: the same callback again fails at the provider's token endpoint.
        location = await _to_provider(http)
        cookie = http.cookies.get(OIDC_COOKIE)
        callback = _at_provider(location, sub)
        assert (await _back_at_app(http, callback)).status_code == 303
        http.cookies.set(OIDC_COOKIE, cookie or "", domain="itilflow.test", path="/ui/sign-in/oidc")
        r = await _back_at_app(http, callback)
        assert r.status_code == 401

        http.cookies.clear()
        r = await _back_at_app(http, _at_provider(await _to_provider(http), sub, action="deny"))
        assert r.status_code == 401 and "did not sign you in" in r.text


async def test_the_id_token_nonce_audience_and_issuer_are_checked(
    web: Any, oidc_settings: Callable[..., Settings], provider: str
) -> None:
    sub = f"sub-{TAG}-3"
    _put_user(provider, sub, {"preferred_username": f"wu{TAG}"})
    # A nonce other than the one sent: the app changes its own pending sign-in before the callback.
    async with web(oidc_settings()) as http:
        location = await _to_provider(http)
        signer = http.app.state.web.signer  # type: ignore[attr-defined]
        pending = signer.unsign(http.cookies.get(OIDC_COOKIE))
        pending["n"] = "another-nonce"
        http.cookies.set(OIDC_COOKIE, signer.sign(pending), domain="itilflow.test", path="/ui/sign-in/oidc")
        r = await _back_at_app(http, _at_provider(location, sub))
        assert r.status_code == 401 and "itf_session" not in r.cookies

    # The token is for another client (audience): validation refuses it.
    settings = oidc_settings()
    other = oidc_settings(oidc_client_id="someone-else")
    async with web(settings) as http:
        location = await _to_provider(http)
        raw = http.cookies.get(OIDC_COOKIE)
        pending = oidc.Pending.from_dict(http.app.state.web.signer.unsign(raw), 600)  # type: ignore[attr-defined]
        callback = parse_qs(urlsplit(_at_provider(location, sub)).query)
    redirect = "http://itilflow.test/ui/sign-in/oidc/callback"
    assert pending is not None
    with pytest.raises(oidc.OidcError):
        oidc.Provider(other).finish(redirect, pending, code=callback["code"][0], state=callback["state"][0])

    # An ID token from another issuer. The mock names itself after the host it is asked by, so an app
    # configured for "localhost" but handed the discovery document of "127.0.0.1" gets tokens whose
    # `iss` is not its issuer.
    async with web(settings) as http:
        location = await _to_provider(http)
        pending = oidc.Pending.from_dict(http.app.state.web.signer.unsign(http.cookies.get(OIDC_COOKIE)), 600)  # type: ignore[attr-defined]
        callback = parse_qs(urlsplit(_at_provider(location, sub)).query)
    assert pending is not None
    wrong = oidc.Provider(oidc_settings(oidc_issuer=provider.replace("127.0.0.1", "localhost")))
    wrong._metadata, wrong._metadata_at = oidc.Provider(settings).metadata(), time.monotonic()
    with pytest.raises(oidc.OidcError, match="not valid"):
        wrong.finish(redirect, pending, code=callback["code"][0], state=callback["state"][0])


async def test_a_token_signed_by_another_key_is_refused(oidc_settings: Callable[..., Settings]) -> None:
    from authlib.jose import JsonWebKey, jwt

    settings = oidc_settings()
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
    now = int(time.time())
    claims = {
        "iss": settings.oidc_issuer,
        "aud": settings.oidc_client_id,
        "sub": "mallory",
        "nonce": "n",
        "iat": now,
        "exp": now + 300,
    }
    forged = jwt.encode({"alg": "RS256", "kid": "not-the-providers"}, claims, key).decode()
    with pytest.raises(oidc.OidcError, match="not valid"):
        oidc.Provider(settings)._validate(forged, "n", None)
