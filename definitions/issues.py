"""A problem found in a definition, with the path to where it is."""

from __future__ import annotations

from dataclasses import dataclass, field

from definitions import issue_words


@dataclass(frozen=True)
class Issue:
    path: str
    message: str  # English, made from a template of definitions/issue_words.py
    # The Chinese, when the check worded it itself (a field value's check); else from the templates.
    zh: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def text(self, lang: str) -> str:
        """The message in the reader's language (`zh` or `en`)."""
        return issue_words.say(self.message, lang, self.zh)
