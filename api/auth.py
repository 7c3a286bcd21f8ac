"""API tokens and the authenticated principal.

A token is `itf_<id>_<secret>`: the prefix makes leaked tokens recognisable to secret scanners, the id
finds the row without scanning, and only a SHA-256 of the secret is stored (the secret is 256 random
bits, so a plain hash is enough; a slow password hash would only slow every request). A token is shown
once, when it is created. Every failure to authenticate looks the same to the caller, so a token never
reveals whether a user exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Table, bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from core.store import user_groups, utcnow
from core.tables import TokenRow, UserRow
from workflows.contracts import Actor

TOKEN_PREFIX = "itf_"
# Writing last_used_at on every request would make reads write; a minute of precision is plenty.
LAST_USED_PRECISION = timedelta(seconds=60)


class UnknownUser(LookupError):
    pass


@dataclass(frozen=True)
class Principal:
    """The caller, as the directory knows it now (roles and groups are read on every request)."""

    username: str
    roles: list[str]
    groups: list[str] = field(default_factory=list)
    language: str = "zh"
    display_name: str = ""
    token_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    def actor(self) -> Actor:
        return Actor(username=self.username, roles=self.roles, groups=self.groups, language=self.language)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# Compared against when a token id is unknown; no secret hashes to it (it is not a hex digest).
_UNKNOWN_TOKEN_HASH = "-" * 64


def create_token(session: Session, *, username: str, name: str = "") -> tuple[TokenRow, str]:
    """A new token for an existing user: returns the row and the token text (the only time it exists)."""
    if session.get(UserRow, username) is None:
        raise UnknownUser(f"no user '{username}'")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = TokenRow(
        id=token_id, username=username, name=name, secret_hash=_digest(secret), created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return row, f"{TOKEN_PREFIX}{token_id}_{secret}"


def issue_token(session: Session, *, username: str, name: str = "") -> str:
    """Convenience for the CLI and `itilflow dev`: just the token text."""
    return create_token(session, username=username, name=name)[1]


def revoke_token(session: Session, *, token_id: str) -> TokenRow | None:
    row = session.get(TokenRow, token_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return row


def list_tokens(session: Session, *, username: str | None = None) -> list[TokenRow]:
    query = select(TokenRow).order_by(col(TokenRow.created_at), col(TokenRow.id))
    if username is not None:
        query = query.where(TokenRow.username == username)
    return list(session.exec(query).all())


def token_id_of(token: str) -> str | None:
    """The id part of a well-formed token (what failed attempts are counted against), else None."""
    parts = _split(token)
    return parts[0] if parts is not None else None


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    parts = token[len(TOKEN_PREFIX) :].split("_", 1)
    if len(parts) != 2 or not parts[0] or not parts[1] or len(parts[0]) > 32:
        return None
    return parts[0], parts[1]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


TOKENS: Table = TokenRow.__table__  # type: ignore[attr-defined]
USERS: Table = UserRow.__table__  # type: ignore[attr-defined]
# Every request runs these: Core statements, built once, cheaper than ORM look-ups (about a third of
# the API's CPU per action went to building and loading ORM objects here).
_CALLER = (
    core_select(
        TOKENS.c.secret_hash,
        TOKENS.c.revoked_at,
        TOKENS.c.last_used_at,
        USERS.c.username,
        USERS.c.active,
        USERS.c.roles,
        USERS.c.language,
        USERS.c.display_name,
    )
    .join_from(TOKENS, USERS, TOKENS.c.username == USERS.c.username)
    .where(TOKENS.c.id == bindparam("token_id"))
)
_TOUCH = update(TOKENS).where(TOKENS.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal a bearer token stands for, or None (bad, revoked, or its user inactive)."""
    found = identify(session, token)
    if found is None:
        return None
    principal, stale = found
    if stale:
        touch(session, principal)
    return principal


def identify(session: Session, token: str) -> tuple[Principal, bool] | None:
    """`authenticate` without writing: the principal, and whether its token's last_used_at is due to
    be written (`touch`). Only reads, so SQLite callers may run it without waiting for a writer."""
    parts = _split(token)
    if parts is None:
        return None
    token_id, secret = parts
    row = session.execute(_CALLER, {"token_id": token_id}).first()
    # One path for every failure: the secret is hashed and compared whether or not the id exists, so
    # the answer's timing does not tell an unknown token id from a wrong secret.
    expected = row.secret_hash if row is not None else _UNKNOWN_TOKEN_HASH
    matches = hmac.compare_digest(expected, _digest(secret))
    if row is None or not matches or row.revoked_at is not None or not row.active:
        return None
    stale = row.last_used_at is None or utcnow() - _aware(row.last_used_at) > LAST_USED_PRECISION
    return principal_for(session, row, token_id=token_id), stale


def touch(session: Session, principal: Principal) -> None:
    """Record that the principal's token was used now."""
    session.execute(_TOUCH, {"token_id": principal.token_id, "now": utcnow()})


class _User(Protocol):
    """What a principal is made of: a `UserRow`, or the row of the token look-up (same names)."""

    username: str
    roles: list[str] | None
    language: str
    display_name: str


def principal_for(session: Session, user: _User | UserRow, *, token_id: str | None = None) -> Principal:
    return Principal(
        username=user.username,
        roles=list(user.roles or []),
        groups=user_groups(session, user.username),
        language=user.language,
        display_name=user.display_name,
        token_id=token_id,
    )
