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


def test_secrets_in_access_log_urls_are_masked() -> None:
    line = redact('127.0.0.1:5 - "GET /api/v1/schedule/feed/f3c9a1b2c3d4.ics HTTP/1.1" 200')
    assert "f3c9a1b2c3d4" not in line and "/feed/***.ics" in line
    line = redact('1.2.3.4:5 - "GET /ui/oidc/callback?code=abc123secret&state=st4te9 HTTP/1.1" 303')
    assert "abc123secret" not in line and "st4te9" not in line and "code=***" in line


def test_trace_and_workflow_ids_are_taken_from_their_context() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        line = _format("inside a span")
        assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in _format("outside any span")
    # Temporal's activity logger passes its info as `temporal_activity`.
    line = _format("activity says", temporal_activity={"workflow_id": "rec-1", "activity_type": "notify"})
    assert line["workflow_id"] == "rec-1"
