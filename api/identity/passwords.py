"""Local passwords: argon2id hashes (argon2-cffi), the password policy, temporary passwords.

The cost parameters are settings; a stored hash made with other parameters is rehashed at the user's
next successful sign-in (`verify` says so). A password is never logged, stored in clear, or put into
a problem's text.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.identity.common_passwords import COMMON
from core.settings import Settings

MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a request from costing much more than it should


def hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def hash_password(settings: Settings, password: str) -> str:
    return hasher(settings).hash(password)


# Verified against when the user is unknown or has no password, so the answer takes the same time.
_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash(settings: Settings) -> str:
    key = (settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hash_password(settings, secrets.token_urlsafe(16))
    return _DUMMY[key]


@dataclass(frozen=True)
class Verified:
    ok: bool
    needs_rehash: bool = False


def verify(settings: Settings, stored: str | None, password: str) -> Verified:
    """Whether `password` matches `stored` (None: no password; the work is done all the same)."""
    ph = hasher(settings)
    try:
        ph.verify(stored or _dummy_hash(settings), password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verified(False)
    if stored is None:
        return Verified(False)
    return Verified(True, needs_rehash=ph.check_needs_rehash(stored))


# --- policy ------------------------------------------------------------------------------------------

MESSAGES = {
    "too_short": {
        "en": "The password must have at least {n} characters.",
        "zh": "密码至少需要 {n} 个字符。",
    },
    "too_long": {"en": "The password must have at most {n} characters.", "zh": "密码最多 {n} 个字符。"},
    "username": {
        "en": "The password must not contain the username.",
        "zh": "密码不能包含用户名。",
    },
    "common": {
        "en": "This password is too common: choose one that is not on lists of frequent passwords.",
        "zh": "该密码过于常见，请选择一个不在常见密码列表中的密码。",
    },
    "same": {
        "en": "The new password must differ from the current one.",
        "zh": "新密码不能与当前密码相同。",
    },
    "wrong_current": {"en": "The current password is wrong.", "zh": "当前密码不正确。"},
}


def message(key: str, lang: str, **values: object) -> str:
    text = MESSAGES[key].get(lang) or MESSAGES[key]["en"]
    return text.format(**values)


_TRIM = re.compile(r"[\d\W_]+$")


def _is_common(password: str) -> bool:
    lowered = password.lower()
    if lowered in COMMON:
        return True
    stem = _TRIM.sub("", lowered)
    if stem in COMMON or (stem == "" and len(set(lowered)) <= 4):
        return True
    # Repeated common words ("passwordpassword") and a word with a year or a sequence after it.
    return any(
        stem == word * (len(stem) // len(word)) for word in COMMON if word and len(stem) % len(word) == 0
    )


def policy_problems(settings: Settings, *, username: str, password: str, lang: str = "en") -> list[str]:
    """Why `password` is refused, in `lang` (empty: accepted)."""
    problems: list[str] = []
    if len(password) < settings.password_min_length:
        problems.append(message("too_short", lang, n=settings.password_min_length))
    if len(password) > MAX_LENGTH:
        problems.append(message("too_long", lang, n=MAX_LENGTH))
    name = username.strip().lower()
    if name and (name in password.lower() or password.lower() in name):
        problems.append(message("username", lang))
    if _is_common(password):
        problems.append(message("common", lang))
    return problems


_ALPHABET = string.ascii_letters + string.digits


def temporary_password(length: int = 16) -> str:
    """A random password for an administrator's reset (about 95 bits); the user must change it."""
    length = max(length, 16)
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value
