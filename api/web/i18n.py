"""The page's two languages: one JSON dictionary per language, chosen by cookie, else Accept-Language."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request

from api.web.session import LANG_COOKIE

LANGUAGES = ("en", "zh")
DIRECTORY = Path(__file__).resolve().parent.parent / "templates" / "i18n"


def catalogue_files(lang: str) -> list[Path]:
    """`{lang}.json` and then each `{lang}.TOPIC.json` fragment, in name order.

    A feature keeps its page texts in a fragment of its own (`zh.schedule.json`) so that work on two
    features never edits the same lines; a key may live in one file only.
    """
    return [DIRECTORY / f"{lang}.json", *sorted(DIRECTORY.glob(f"{lang}.*.json"))]


@cache
def messages(lang: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for path in catalogue_files(lang):
        part: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(data.keys() & part.keys())
        if twice:
            raise ValueError(f"{path.name} repeats keys of another catalogue file: {', '.join(twice)}")
        data.update(part)
    return data


def translate(lang: str, key: str, /, **values: Any) -> str:
    text = messages(lang).get(key) or messages("en").get(key) or key
    return text.format(**values) if values else text


def from_accept_language(header: str) -> str | None:
    """The first supported language by quality (zh-CN, zh-TW, zh → zh)."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            choices.append((-quality, index, base))
    return min(choices)[2] if choices else None


def language(request: Request, preferred: str | None = None) -> str:
    """The page's language: the switch's cookie, else the signed-in user's profile, else the browser's."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if preferred in LANGUAGES:
        return str(preferred)
    return from_accept_language(request.headers.get("accept-language", "")) or "en"


def humanize(name: str) -> str:
    """A field name as a label when the definition gives none: `backout_plan` → `Backout plan`."""
    return name.replace("_", " ").strip().capitalize()


def pick(text: Any, lang: str, fallback: str = "") -> str:
    """A {zh, en} label (dict or model) in `lang`, else the fallback."""
    if text is None:
        return fallback
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("en") or fallback)
    value = getattr(text, lang, None) or getattr(text, "en", None)
    return str(value) if value else fallback
