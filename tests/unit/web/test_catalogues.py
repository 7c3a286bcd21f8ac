"""The page's two catalogues say the same things: every key in both languages, none in two files."""

from __future__ import annotations

import json

from api.web import i18n
from definitions.loader import library_files, load_file


def test_both_languages_have_the_same_keys() -> None:
    en, zh = i18n.messages("en"), i18n.messages("zh")
    assert sorted(en.keys() - zh.keys()) == [], "keys with no Chinese text"
    assert sorted(zh.keys() - en.keys()) == [], "keys with no English text"


def test_a_key_lives_in_one_file_only() -> None:
    for lang in i18n.LANGUAGES:
        seen: dict[str, str] = {}
        for path in i18n.catalogue_files(lang):
            for key in json.loads(path.read_text(encoding="utf-8")):
                assert key not in seen, f"{key} is in {seen.get(key)} and {path.name}"
                seen[key] = path.name


def test_no_text_is_empty() -> None:
    for lang in i18n.LANGUAGES:
        assert [k for k, v in i18n.messages(lang).items() if not v.strip()] == []


def test_every_role_of_the_standard_library_has_words() -> None:
    """A user may hold a library role before its process is published (the admin page lists them):
    the page still names it in words, never by its key."""
    zh, en = i18n.messages("zh"), i18n.messages("en")
    for path in library_files():
        definition = load_file(path).definition
        assert definition is not None
        for name in definition.roles:
            assert zh.get(f"role.{name}"), f"role.{name} ({definition.key}) has no Chinese words"
            assert en.get(f"role.{name}"), f"role.{name} ({definition.key}) has no English words"
