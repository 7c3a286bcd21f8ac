"""Refusals of scheduled records, in Chinese and English, naming the field at fault."""

from __future__ import annotations


class ScheduleError(ValueError):
    """Bad input for a schedule (nothing was written), or a schedule that does not exist."""

    def __init__(self, path: str, en: str, zh: str, *, kind: str = "invalid") -> None:
        super().__init__(f"{path}: {en}")
        self.path = path
        self.en = en
        self.zh = zh
        self.kind = kind  # invalid | not_found | conflict
