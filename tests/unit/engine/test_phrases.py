"""The refusal phrase table: every phrase in both languages, with the same parameters."""

from __future__ import annotations

import string

from workflows.engine.phrases import PHRASES, say


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_take_the_same_parameters() -> None:
    for key, (en, zh) in PHRASES.items():
        assert en and zh and en != zh, key
        assert _fields(en) == _fields(zh), key


def test_the_language_is_picked_by_prefix() -> None:
    assert say("required", "zh-CN") == "必填" and say("required", "en") == "required"
    assert say("required", "fr") == "required"  # anything but Chinese reads English
