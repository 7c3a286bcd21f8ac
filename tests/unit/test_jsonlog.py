"""JSON log lines: one parseable object per line, context fields kept, secrets masked."""

from __future__ import annotations

import json
import logging

import pytest

from core.jsonlog import MASK, JsonFormatter, redact


def _format(msg: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("itilflow.api", logging.INFO, __file__, 1, msg, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_context_fields_are_kept() -> None:
    line = _format("action done", record="INC-7", workflow_id="record-INC-7", trace_id="ab12")
    assert line["message"] == "action done"
    assert line["record"] == "INC-7"
    assert line["workflow_id"] == "record-INC-7"
    assert line["trace_id"] == "ab12"
    assert line["level"] == "INFO"


@pytest.mark.parametrize(
    "text",
    [
        "login password=hunter2 failed",
        "Authorization: Bearer abc.def.ghi",
        "webhook_secret='s3cr3t' set",
        "api_key: K-123, retrying",
        'token="tok_999"',
    ],
)
def test_secrets_are_masked(text: str) -> None:
    out = _format(text)["message"]
    assert isinstance(out, str)
    for secret in ("hunter2", "abc.def.ghi", "s3cr3t", "K-123", "tok_999"):
        assert secret not in out
    assert MASK in out


def test_plain_text_is_unchanged() -> None:
    assert redact("record INC-7 moved to resolved") == "record INC-7 moved to resolved"


def test_chinese_is_kept_readable() -> None:
    line = JsonFormatter().format(logging.LogRecord("x", logging.INFO, __file__, 1, "记录已解决", None, None))
    assert "记录已解决" in line
