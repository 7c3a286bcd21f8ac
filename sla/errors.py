"""Refusals of the agreements package, in Chinese and English, naming the field at fault."""

from __future__ import annotations


class SlaError(ValueError):
    """Bad input for an agreement, an outage or a period; nothing was written."""

    def __init__(self, path: str, en: str, zh: str, *, kind: str = "invalid") -> None:
        super().__init__(f"{path}: {en}")
        self.path = path
        self.en = en
        self.zh = zh
        self.kind = kind  # invalid | overlap | not_found | change_required
