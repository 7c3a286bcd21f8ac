"""Web sessions: a signed, HttpOnly cookie naming a session token, checked against the database per request.

Signing in issues the user a fresh API token (named "web session") and the cookie carries only its id
and the username, signed with HMAC-SHA256; the token secret never leaves the server. Every request
looks the token row up again, so revoking the token (or deactivating the user) ends the session at
once, and signing out revokes it. A session ends after `session_idle_minutes` without a request
(the token's last_used_at, written at most once a minute) and `session_absolute_hours` after sign-in,
whatever happens in between. POST forms carry a CSRF token derived from the session (HMAC of the
token id), and every POST must come from this origin when the browser says where it comes from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy import Engine
from sqlmodel import Session

from api.auth import Principal, create_token, principal_for, revoke_token
from api.web import i18n
from core.db import session_scope
from core.settings import Settings
from core.store import utcnow
from core.tables import TokenRow, UserRow

COOKIE = "itf_session"
LANG_COOKIE = "itf_lang"
SESSION_TOKEN_NAME = "web session"
MAX_AGE = 12 * 3600  # the default of session_absolute_hours: a working day; sign in again after
TOUCH_EVERY = timedelta(seconds=60)


def max_age(settings: Settings | None) -> int:
    return int(settings.session_absolute_hours * 3600) if settings is not None else MAX_AGE


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in page, partial updates answer 401."""


class CsrfRefused(Exception):
    """A POST without this session's CSRF token, or from another origin."""


class Signer:
    def __init__(self, secret: bytes | None) -> None:
        # Without a configured secret, sessions last as long as this process: good enough for `itilflow
        # dev`, and safe (a random key nobody knows).
        self.key = secret or secrets.token_bytes(32)

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self.key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, data: dict[str, object]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
        return f"{payload.rstrip('=')}.{self._mac(payload.rstrip('=').encode())}"

    def unsign(self, value: str) -> dict[str, object] | None:
        payload, _, mac = value.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(payload.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def csrf(self, token_id: str) -> str:
        return self._mac(f"csrf:{token_id}".encode())


def start_session(session: Session, *, username: str) -> str:
    """Issue the session token for `username` (who must exist and be active); returns its id."""
    user = session.get(UserRow, username)
    if user is None or not user.active:
        raise LookupError(username)
    row, _token = create_token(session, username=username, name=SESSION_TOKEN_NAME)
    return row.id


def cookie_value(signer: Signer, *, username: str, token_id: str) -> str:
    return signer.sign({"u": username, "t": token_id, "iat": int(time.time())})


def principal(request: Request, signer: Signer, engine: Engine) -> Principal | None:
    """The signed-in user of this request, or None (no cookie, a forged one, an ended session).

    Sets `request.state.must_change_password` for the pages (api/web/common.py)."""
    raw = request.cookies.get(COOKIE)
    data = signer.unsign(raw) if raw else None
    if data is None:
        return None
    username, token_id, issued = data.get("u"), data.get("t"), data.get("iat")
    if not isinstance(username, str) or not isinstance(token_id, str) or not isinstance(issued, int):
        return None
    settings: Settings | None = getattr(request.app.state, "settings", None)
    absolute = max_age(settings)
    idle = timedelta(minutes=settings.session_idle_minutes if settings is not None else 30)
    if time.time() - issued > absolute:
        return None
    with session_scope(engine) as session:
        row = session.get(TokenRow, token_id)
        if row is None or row.revoked_at is not None or row.username != username:
            return None
        now = utcnow()
        created = _aware(row.created_at)
        last = _aware(row.last_used_at) if row.last_used_at else created
        if now - created > timedelta(seconds=absolute) or now - last > idle:
            return None
        user = session.get(UserRow, username)
        if user is None or not user.active:
            return None
        if now - last > min(TOUCH_EVERY, idle / 4):
            row.last_used_at = now
            session.add(row)
        request.state.must_change_password = user.must_change_password
        principal = principal_for(session, user, token_id=token_id)
    # The engine answers in the actor's language: on the page, the page's (the switch wins over the
    # profile), so a refusal reads like the page around it.
    return replace(principal, language=i18n.language(request, principal.language))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def end_session(engine: Engine, user: Principal) -> None:
    if user.token_id is None:
        return
    with session_scope(engine) as session:
        revoke_token(session, token_id=user.token_id)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None  # "null" origins (sandboxed frames, file:) are refused
    return urlsplit(source).netloc == request.headers.get("host", "")


def check_post(request: Request, signer: Signer, user: Principal | None, form_token: str | None) -> None:
    if not same_origin(request):
        raise CsrfRefused("the request comes from another site")
    if user is None:
        return
    sent = request.headers.get("x-csrf-token") or form_token or ""
    if user.token_id is None or not hmac.compare_digest(sent, signer.csrf(user.token_id)):
        raise CsrfRefused("the form has expired or did not come from this page; reload and try again")
