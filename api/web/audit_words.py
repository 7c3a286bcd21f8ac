"""An admin audit event's details in the reader's words, for the audit page and its download: role
names by their labels, yes/no for flags, a language by its name, a sign-in source by its words; any
other value (a reason someone typed, a group, a user) is shown as written."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from api.web import i18n

ROLE_KEYS = {"role", "roles"}
LANGUAGES = {"zh": "中文", "en": "English"}


def detail_value(key: str, value: Any, lang: str, role_label: Callable[[str], str]) -> str:
    """One detail's value as people read it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return i18n.translate(lang, "yes" if value else "no")
    if isinstance(value, list):
        return ("、" if lang == "zh" else ", ").join(detail_value(key, v, lang, role_label) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {detail_value(k, v, lang, role_label)}" for k, v in value.items())
    text = str(value)
    if key in ROLE_KEYS:
        return role_label(text)
    if key == "language":
        return LANGUAGES.get(text, text)
    if key in ("auth_source", "source"):
        said = i18n.translate(lang, f"account.source_{text}")
        return text if said.startswith("account.") else said
    return text if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def detail_key(key: str, lang: str) -> str:
    """A detail's name in the reader's words (its key when there are none)."""
    return _words(f"audit.detail.{key}", key, lang)


def action(name: str, lang: str) -> str:
    """An admin event's action in the reader's words (its name when there are none)."""
    return _words(f"audit.{name}", name, lang)


def _words(key: str, fallback: str, lang: str) -> str:
    said = i18n.translate(lang, key)
    return fallback if said == key else said
