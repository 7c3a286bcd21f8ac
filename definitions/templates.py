"""Notification templates: `{{ name }}` placeholders filled from a record, nothing else.

Deliberately not Jinja or str.format: templates are written by process owners, and a template
language that can reach attributes is an injection risk. Unknown placeholders are caught statically.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")
# Placeholders every record provides besides its fields.
BUILTIN_PLACEHOLDERS = frozenset(
    {
        "number",
        "id",
        "title",
        "state",
        "state_label",
        "definition",
        "actor",
        "sla",
        "threshold",
        "due_at",
        "approval",
        "deadline",
        "url",
        "recipient",
    }
)


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def render(text: str, values: Mapping[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return "" if value is None else str(value)

    return PLACEHOLDER.sub(fill, text)
