"""One sign-in path for a username and a password: a local argon2id hash or the LDAP directory, with
the lockout both share.

Every failure looks the same to the caller ("wrong username or password") except a lock, which says
until when. Failed passwords count per account in the database (`failed_logins`; at
`lockout_threshold` the account is locked for `lockout_minutes`), and per username in memory for
names that have no account, so a lock does not tell who exists. A success resets the count. The
caller commits whatever this returns (a failure's count too), and never logs the password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from api.identity import ldap, passwords
from api.identity.provision import NotProvisionable, provision
from api.ratelimit import FailureLimiter
from core.settings import Settings
from core.store import utcnow
from core.tables import UserRow

log = logging.getLogger("itilflow.identity")

BAD = {
    "en": "Wrong username or password.",
    "zh": "用户名或密码错误。",
}
UNAVAILABLE = {
    "en": "The directory cannot be reached; try again later or ask the service desk.",
    "zh": "目录服务暂时无法访问，请稍后重试或联系服务台。",
}


def locked_message(until: datetime, lang: str) -> str:
    """Both languages, the reader's first: a locked-out user may have the page in the other one."""
    when = until.strftime("%Y-%m-%d %H:%M UTC")
    en = f"Too many wrong passwords: this account is locked until {when}."
    zh = f"密码错误次数过多，该账户已被锁定至 {when}。"
    return f"{zh} / {en}" if lang == "zh" else f"{en} / {zh}"


@dataclass
class Outcome:
    user: UserRow | None = None
    locked_until: datetime | None = None
    unavailable: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None

    def message(self, lang: str) -> str:
        if self.locked_until is not None:
            return locked_message(self.locked_until, lang)
        return (UNAVAILABLE if self.unavailable else BAD).get(lang) or BAD["en"]


def _locked(user: UserRow | None, now: datetime) -> datetime | None:
    if user is None or user.locked_until is None:
        return None
    return user.locked_until if user.locked_until > now else None


def password_sign_in(
    session: Session, settings: Settings, limiter: FailureLimiter, *, username: str, password: str
) -> Outcome:
    """Check `username` and `password`; on success the user row (refreshed from LDAP if it is from there)."""
    now = utcnow()
    username = username.strip()
    user = session.get(UserRow, username) if 0 < len(username) <= 64 else None
    key = f"login:{username.lower()}"
    until = _locked(user, now)
    if until is None and user is None and (wait := limiter.retry_after(key)) is not None:
        until = now + timedelta(seconds=wait)
    if until is not None:
        return Outcome(locked_until=until)

    result: UserRow | None = None
    unavailable = False
    if user is not None and user.auth_source == "local" and user.password_hash and not user.service_account:
        checked = passwords.verify(settings, user.password_hash, password)
        if checked.ok:
            result = user
            if checked.needs_rehash:
                user.password_hash = passwords.hash_password(settings, password)
    elif ldap.enabled(settings) and (
        user is None
        or user.auth_source == "ldap"
        or (user.auth_source == "local" and not user.password_hash and not user.service_account)
    ):
        try:
            identity = ldap.authenticate(settings, username, password)
        except ldap.DirectoryUnavailable as exc:
            log.error("LDAP sign-in of %r failed: %s", username, exc)
            identity, unavailable = None, True
        if identity is not None:
            try:
                result = provision(session, settings, identity, settings.ldap_group_map)
            except NotProvisionable as exc:
                log.warning("LDAP sign-in refused: %s", exc)
    else:
        passwords.verify(settings, None, password)  # the same work as a wrong password

    if result is not None and not result.active:
        result = None
    if result is None:
        if unavailable:
            return Outcome(unavailable=True)
        return _failed(session, settings, limiter, user, key, now)
    result.failed_logins = 0
    result.locked_until = None
    result.last_login_at = now
    session.add(result)
    session.flush()
    return Outcome(user=result)


def _failed(
    session: Session,
    settings: Settings,
    limiter: FailureLimiter,
    user: UserRow | None,
    key: str,
    now: datetime,
) -> Outcome:
    if user is None:
        limiter.failed(key)
        wait = limiter.retry_after(key)
        return Outcome(locked_until=now + timedelta(seconds=wait) if wait is not None else None)
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= settings.lockout_threshold:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        log.warning("account %s locked until %s after wrong passwords", user.username, user.locked_until)
    session.add(user)
    session.flush()
    return Outcome(locked_until=user.locked_until if user.locked_until and user.locked_until > now else None)
