"""An attribute's value checked against its declared type: the normalised value, or what is wrong.

Values arrive as JSON (typed) or as CSV cells (text); both are accepted for every type ("12" for an
integer), so an export imports back unchanged."""

from __future__ import annotations

import ipaddress
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from cmdb.model import Attribute

MAX_SAFE = 2**53  # integers travel through JSON: beyond this a JavaScript client loses digits
TRUE = {"true", "yes", "1", "y", "是"}
FALSE = {"false", "no", "0", "n", "否"}
URL_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "smb", "file"}


class Bad(ValueError):
    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh


def _text(value: Any, attr: Attribute) -> str:
    if not isinstance(value, str):
        raise Bad(f"expected text, got {type(value).__name__}", "应为文本")
    if len(value) > attr.max_length:
        raise Bad(f"at most {attr.max_length} characters", f"最多 {attr.max_length} 个字符")
    return value


def normalise(attr: Attribute, value: Any) -> Any:
    """The value as stored, or `Bad` naming the rule it breaks."""
    kind = attr.type
    if kind in ("string", "text"):
        return _text(value, attr)
    if kind == "integer":
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise Bad("expected a whole number", "应为整数") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Bad("expected a whole number", "应为整数")
        if abs(value) > MAX_SAFE:
            raise Bad(f"at most {MAX_SAFE} in size", f"绝对值最大为 {MAX_SAFE}")
        return value
    if kind == "number":
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise Bad("expected a number", "应为数字") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise Bad("expected a number", "应为数字")
        if abs(value) > 1e300:
            raise Bad("the number is too large", "数字过大")
        return value
    if kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE
        if not isinstance(value, bool):
            raise Bad("expected true or false", "应为 true 或 false")
        return value
    if kind == "date":
        try:
            return date.fromisoformat(_text(value, attr)).isoformat()
        except ValueError:
            raise Bad("expected a date YYYY-MM-DD", "应为日期 YYYY-MM-DD") from None
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(_text(value, attr).strip()))
        except ValueError:
            raise Bad("expected an IPv4 or IPv6 address", "应为 IPv4 或 IPv6 地址") from None
    if kind == "url":
        text = _text(value, attr).strip()
        parts = urlsplit(text)
        if parts.scheme not in URL_SCHEMES or not (parts.netloc or parts.path):
            raise Bad(
                f"expected a URL ({', '.join(sorted(URL_SCHEMES))})",
                f"应为链接（{', '.join(sorted(URL_SCHEMES))}）",
            )
        return text
    # enum
    if not isinstance(value, str) or value not in attr.values:
        allowed = ", ".join(attr.values)
        raise Bad(f"expected one of: {allowed}", f"应为以下之一：{allowed}")
    return value


def key_text(value: Any) -> str:
    """A unique attribute's value as the keys table stores it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
