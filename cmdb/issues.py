"""A problem found in a CMDB model or in CI data: where it is, and what is wrong in zh and en."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    path: str
    en: str
    zh: str

    def message(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return f"{self.path}: {self.en}" if self.path else self.en
