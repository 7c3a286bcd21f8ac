"""Local accounts with passwords, through the real app: an administrator's reset to a temporary
password, the forced change, the policy (length, username, common passwords), the lockout and its
bilingual message, argon2id rehashing when the cost settings change, session expiry, the user's
language, and that no password reaches the logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from api.identity import passwords
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user, utcnow
from core.tables import TokenRow, UserRow
from tests.api.conftest import auth, tokens  # noqa: F401 - the admin's token
from tests.identity.conftest import CHEAP, csrf_of, sign_in

GOOD = "Blue-harbour-lantern-42"


def _new_user(engine: Engine, language: str = "en", roles: list[str] | None = None) -> str:
    name = f"p{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as session:
        upsert_user(session, username=name, roles=roles or ["agent"], language=language)
    return name


async def _reset(http: httpx.AsyncClient, admin_token: str, username: str) -> str:
    r = await http.post(f"/api/v1/admin/users/{username}/password", headers=auth(admin_token))
    assert r.status_code == 200, r.text
    assert r.json()["must_change_password"] is True
    return str(r.json()["temporary_password"])


async def test_a_reset_password_must_be_changed_then_works(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    name = _new_user(db_engine)
    async with web(make_settings()) as http:
        temporary = await _reset(http, tokens["root"], name)
        assert len(temporary) >= 16
        r = await sign_in(http, name, temporary)
        assert r.status_code == 303 and r.headers["location"] == "/ui/account"
        # Every other page sends the user back until they choose their own password.
        r = await http.get("/ui/inbox")
        assert r.status_code == 303 and r.headers["location"] == "/ui/account"
        # The account page's own partial requests are refused without a redirect (no loop).
        r = await http.get("/ui/inbox/count", headers={"HX-Request": "true"})
        assert r.status_code == 403 and "hx-redirect" not in r.headers
        page = await http.get("/ui/account")
        assert 'id="must-change"' in page.text
        csrf = csrf_of(page.text)

        async def change(current: str, new: str, confirm: str | None = None) -> httpx.Response:
            return await http.post(
                "/ui/account/password",
                data={
                    "csrf": csrf,
                    "current_password": current,
                    "new_password": new,
                    "confirm_password": new if confirm is None else confirm,
                },
            )

        r = await change(temporary, "short1")
        assert r.status_code == 422 and "at least 12 characters" in r.text
        r = await change(temporary, f"{name}-is-my-password")
        assert r.status_code == 422 and "must not contain the username" in r.text
        r = await change(temporary, "Password123!")
        assert r.status_code == 422 and "too common" in r.text
        r = await change(temporary, "qwertyuiop1234")
        assert r.status_code == 422 and "too common" in r.text
        r = await change("not the current one", GOOD)
        assert r.status_code == 403 and "current password is wrong" in r.text
        r = await change(temporary, GOOD, confirm=GOOD + "x")
        assert r.status_code == 422 and "differ" in r.text
        r = await change(temporary, GOOD)
        assert r.status_code == 303 and r.headers["location"] == "/ui/account?saved=password"
        assert (await http.get("/ui/inbox")).status_code == 200

        await http.post("/ui/sign-out", data={"csrf": csrf})
        http.cookies.clear()
        assert (await sign_in(http, name, temporary)).status_code == 401
        r = await sign_in(http, name, GOOD)
        assert r.status_code == 303 and r.headers["location"] == "/ui/inbox"
    with session_scope(db_engine) as session:
        user = session.get(UserRow, name)
        assert user is not None and not user.must_change_password and user.last_login_at is not None
        assert user.password_hash and user.password_hash.startswith("$argon2id$")


async def test_wrong_passwords_lock_the_account_until_a_time_said_in_both_languages(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    name = _new_user(db_engine, language="zh")
    async with web(make_settings(lockout_threshold=3, lockout_minutes=15)) as http:
        temporary = await _reset(http, tokens["root"], name)
        for _ in range(2):
            r = await sign_in(http, name, "wrong password")
            assert r.status_code == 401 and "Wrong username or password" in r.text
        r = await sign_in(http, name, "wrong password", next="/ui/records")
        assert r.status_code == 423
        assert "锁定至" in r.text and "locked until" in r.text
        r = await sign_in(http, name, temporary)  # the right password does not open a locked account
        assert r.status_code == 423
        detail = (await http.get(f"/api/v1/admin/users/{name}", headers=auth(tokens["root"]))).json()
        assert detail["locked_until"] is not None
        # A name without an account locks the same way: a lock does not tell who exists.
        ghost = f"ghost{uuid.uuid4().hex[:6]}"
        for _ in range(3):
            r = await sign_in(http, ghost, "wrong password")
        assert r.status_code == 423 and "locked until" in r.text

        # An administrator's reset lifts the lock.
        temporary = await _reset(http, tokens["root"], name)
        assert (await sign_in(http, name, temporary)).status_code == 303


async def test_changed_argon2_parameters_rehash_at_the_next_sign_in(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    name = _new_user(db_engine)
    cheap = make_settings()
    with session_scope(db_engine) as session:
        user = session.get(UserRow, name)
        assert user is not None
        user.password_hash = passwords.hash_password(cheap, GOOD)
        session.add(user)
    stronger = make_settings(argon2_time_cost=2, argon2_memory_cost=2048, argon2_parallelism=2)
    async with web(stronger) as http:
        assert (await sign_in(http, name, GOOD)).status_code == 303
    with session_scope(db_engine) as session:
        stored = session.get(UserRow, name).password_hash  # type: ignore[union-attr]
    assert stored is not None and "m=2048,t=2,p=2" in stored
    assert not PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2).check_needs_rehash(stored)
    # The defaults are argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes, 4 lanes.
    default = Settings()
    assert (default.argon2_memory_cost, default.argon2_time_cost, default.argon2_parallelism) == (65536, 3, 4)
    assert "m=65536,t=3,p=4" in passwords.hash_password(default, GOOD)


def test_the_policy(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(password_min_length=12)
    ok = passwords.policy_problems(settings, username="wang", password="Tea-garden-river-7")
    assert ok == []
    for bad in ("iloveyou2024!", "woaini1314520", "passwordpassword", "12345678901234", "Bank2024!!!!"):
        assert passwords.policy_problems(settings, username="x", password=bad), bad
    zh = passwords.policy_problems(settings, username="wang", password="wang12345", lang="zh")
    assert "密码至少需要 12 个字符。" in zh and "密码不能包含用户名。" in zh


async def test_sessions_end_when_idle_and_after_the_absolute_limit(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    name = _new_user(db_engine)
    async with web(make_settings(session_idle_minutes=30, session_absolute_hours=8)) as http:
        temporary = await _reset(http, tokens["root"], name)
        r = await sign_in(http, name, temporary)
        assert r.status_code == 303
        assert "Max-Age=28800" in r.headers["set-cookie"]  # the cookie lasts the absolute limit
        assert (await http.get("/ui/account")).status_code == 200
        with session_scope(db_engine) as session:
            row = next(t for t in session.query(TokenRow).filter(TokenRow.username == name))  # type: ignore[arg-type]
            row.last_used_at = utcnow() - timedelta(minutes=31)
            session.add(row)
            token_id = row.id
        r = await http.get("/ui/account")
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/sign-in")

        http.cookies.clear()
        assert (await sign_in(http, name, temporary)).status_code == 303
        with session_scope(db_engine) as session:
            row = next(
                t
                for t in session.query(TokenRow).filter(TokenRow.username == name)  # type: ignore[arg-type]
                if t.id != token_id
            )
            row.created_at = utcnow() - timedelta(hours=8, minutes=1)
            row.last_used_at = utcnow()
            session.add(row)
        r = await http.get("/ui/account")
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/sign-in")


async def test_language_is_a_profile_setting(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    name = _new_user(db_engine, language="en")
    async with web(make_settings()) as http:
        token = (
            await http.post("/api/v1/admin/tokens", json={"username": name}, headers=auth(tokens["root"]))
        ).json()["token"]
        r = await http.patch("/api/v1/me", json={"language": "zh"}, headers=auth(token))
        assert r.status_code == 200 and r.json()["language"] == "zh"
        r = await http.patch("/api/v1/me", json={"language": "fr"}, headers=auth(token))
        assert r.status_code == 422
        # The API answers in it where it words a message itself.
        temporary = await _reset(http, tokens["root"], name)
        r = await http.post(
            "/api/v1/me/password",
            json={"current_password": temporary, "new_password": "short"},
            headers=auth(token),
        )
        assert r.status_code == 422 and "密码至少需要" in r.json()["detail"]
        r = await http.post(
            "/api/v1/me/password",
            json={"current_password": "nope", "new_password": GOOD},
            headers=auth(token),
        )
        assert r.status_code == 403 and r.json()["detail"] == "当前密码不正确。"
        r = await http.post(
            "/api/v1/me/password",
            json={"current_password": temporary, "new_password": GOOD},
            headers=auth(token),
        )
        assert r.status_code == 204

        # The page follows the profile; the account page changes it.
        assert (await sign_in(http, name, GOOD)).status_code == 303
        page = await http.get("/ui/account")
        assert 'lang="zh-CN"' in page.text
        r = await http.post("/ui/account/profile", data={"csrf": csrf_of(page.text), "language": "en"})
        assert r.status_code == 303
        assert 'lang="en"' in (await http.get("/ui/account")).text
    with session_scope(db_engine) as session:
        assert session.get(UserRow, name).language == "en"  # type: ignore[union-attr]


async def test_service_accounts_and_directory_users_have_no_password_here(
    web: Any,
    make_settings: Callable[..., Settings],
    tokens: dict[str, str],  # noqa: F811
) -> None:
    async with web(make_settings()) as http:
        r = await http.post("/api/v1/admin/users/bot/password", headers=auth(tokens["root"]))
        assert r.status_code == 409 and "service account" in r.json()["detail"]
        # A token still signs a service account in to the API, never a password to the page.
        assert (await sign_in(http, "bot", "anything at all")).status_code == 401


async def test_the_sign_in_page_lists_demo_users_only_in_dev(
    web: Any, make_settings: Callable[..., Settings]
) -> None:
    async with web(make_settings()) as http:
        page = (await http.get("/ui/sign-in")).text
        assert 'name="password"' in page and "demo-user" not in page and 'id="sso"' not in page
    async with web(make_settings(dev_login=True)) as http:
        assert "demo-user" in (await http.get("/ui/sign-in")).text
    async with web(make_settings(password_login=False)) as http:
        assert 'name="password"' not in (await http.get("/ui/sign-in")).text


async def test_passwords_never_reach_the_logs(
    web: Any,
    make_settings: Callable[..., Settings],
    db_engine: Engine,
    tokens: dict[str, str],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    name = _new_user(db_engine)
    async with web(make_settings(lockout_threshold=2)) as http:
        temporary = await _reset(http, tokens["root"], name)
        await sign_in(http, name, "Wrong-secret-value-1")
        await sign_in(http, name, "Wrong-secret-value-2")  # locks: logged, without the password
        assert "locked" in caplog.text
    text = caplog.text + "".join(str(rec.args) for rec in caplog.records)
    for secret in (temporary, "Wrong-secret-value-1", "Wrong-secret-value-2"):
        assert secret not in text


def test_cheap_parameters_are_only_for_tests() -> None:
    assert CHEAP["argon2_memory_cost"] < Settings().argon2_memory_cost
