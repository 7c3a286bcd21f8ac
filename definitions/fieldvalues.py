"""Checking and normalising field values against their declared types.

Values travel through Temporal payloads and SQL JSON columns, so they are kept JSON-native:
datetimes and durations as ISO 8601 strings, users/groups/references as their names or ids.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from definitions import checklist
from definitions.model import FieldDef, FieldType

_DURATION = TypeAdapter(timedelta)
_NAME = re.compile(r"^[^\s]{1,200}$")
_KIND_ZH = {"user": "用户", "group": "组", "reference": "引用"}


class FieldValueError(ValueError):
    """A value does not fit its field; the message says why (str() is English, `zh` Chinese)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh

    def say(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


def _check_scalar(kind: FieldType, value: Any, spec: FieldDef | None) -> Any:
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise FieldValueError(f"expected text, got {type(value).__name__}", "应为文本")
        limit = spec.max_length if spec and spec.max_length else (200 if kind == "string" else 20000)
        if len(value) > limit:
            raise FieldValueError(f"longer than {limit} characters", f"超过 {limit} 个字符")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise FieldValueError("expected a whole number", "应为整数")
        try:
            number = int(value)
        except ValueError as exc:
            raise FieldValueError(
                f"expected a whole number, got {value!r}", f"应为整数，收到 {value!r}"
            ) from exc
        if spec and spec.min is not None and number < spec.min:
            raise FieldValueError(f"must be at least {spec.min:g}", f"不能小于 {spec.min:g}")
        if spec and spec.max is not None and number > spec.max:
            raise FieldValueError(f"must be at most {spec.max:g}", f"不能大于 {spec.max:g}")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise FieldValueError("expected true or false", "应为是或否（true/false）")
    if kind == "enum":
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
        allowed = spec.values if spec and spec.values else []
        if text is None or text not in allowed:
            raise FieldValueError(
                f"must be one of {', '.join(allowed)}; got {value!r}",
                f"应为以下之一：{'、'.join(allowed)}；收到 {value!r}",
            )
        return text
    if kind == "datetime":
        if not isinstance(value, str):
            raise FieldValueError(
                "expected an ISO 8601 date-time with offset", "应为带时区偏移的 ISO 8601 日期时间"
            )
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise FieldValueError(
                f"not an ISO 8601 date-time: {value!r}", f"不是 ISO 8601 日期时间：{value!r}"
            ) from exc
        if parsed.tzinfo is None:
            raise FieldValueError(
                f"date-time needs a UTC offset: {value!r}", f"日期时间需要带 UTC 偏移：{value!r}"
            )
        return parsed.isoformat()
    if kind == "duration":
        try:
            _DURATION.validate_python(value)
        except ValidationError as exc:
            raise FieldValueError(
                f"not an ISO 8601 duration: {value!r}", f"不是 ISO 8601 时长：{value!r}"
            ) from exc
        return value
    if kind == "ci":
        # A CI's id in the CMDB (JSON number; a form sends digits). Whether it exists is the engine's
        # check against the CMDB (workflows/engine/references.py), not the type's.
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text.isdigit() or int(text) < 1:
            raise FieldValueError(
                f"expected a configuration item's number, got {value!r}", f"应为配置项编号，收到 {value!r}"
            )
        return int(text)
    # user, group, reference: identifiers
    if not isinstance(value, str) or not _NAME.match(value):
        raise FieldValueError(
            f"expected a {kind} name or id without spaces, got {value!r}",
            f"应为不含空格的{_KIND_ZH.get(kind, kind)}名称或编号，收到 {value!r}",
        )
    return value


def check_value(kind: FieldType, value: Any, spec: FieldDef | None = None) -> Any:
    """Return the normalised value or raise FieldValueError. None clears a field."""
    if value is None:
        return None
    if kind == "checklist":
        try:
            return checklist.parse_answers(spec.items or [] if spec else [], value)
        except ValueError as exc:
            en, zh = exc.args[0]
            raise FieldValueError(en, zh) from None
    if kind == "list":
        if not isinstance(value, list):
            raise FieldValueError("expected a list", "应为列表")
        item_kind: FieldType = spec.item_type if spec and spec.item_type else "string"
        items = [_check_scalar(item_kind, item, None) for item in value]
        return list(dict.fromkeys(items)) if item_kind == "ci" else items  # a CI named once
    return _check_scalar(kind, value, spec)
