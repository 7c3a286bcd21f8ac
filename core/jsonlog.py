"""JSON log lines for production: one object per line, secrets redacted.

Log collectors (Loki, Elasticsearch) parse one JSON object per line; the record
number, workflow id and trace id travel as fields so an operator can join a log
line to a record, its Temporal history and its trace.  Redaction happens here,
at the last moment, because a secret can reach a message through any library's
f-string — masking at each call site would miss some.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Final

from opentelemetry import trace

# Extra fields a caller may pass with `extra={...}`; only these are copied out.
CONTEXT_FIELDS: Final = ("record", "workflow_id", "trace_id", "span_id", "route", "status")

# What a secret looks like in a message: a key that names one, then its value.
_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|bearer|webhook[_-]?secret)"
    r"(\s*[=:]\s*|\s+)(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s,;\"']+")
# Secrets in URLs of access log lines: an OIDC callback's code and state, the calendar feed's token
# (its path is the secret: /api/v1/schedule/feed/<token>.ics).
_QUERY_SECRET = re.compile(r"(?i)([?&](?:code|state|access_token|id_token|refresh_token|key)=)[^&\s\"']+")
_FEED = re.compile(r"(/feed/)[^/\s\"'?]+(\.ics)")
MASK: Final = "***"


def redact(text: str) -> str:
    """The text with every `name=value` / `name: value` secret replaced by ***."""
    text = _BEARER.sub(f"Bearer {MASK}", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _FEED.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def _context(record: logging.LogRecord, line: dict[str, object]) -> None:
    """The record's context fields; the workflow id from Temporal's workflow and activity loggers
    (they pass it in `temporal_workflow` / `temporal_activity`); the trace and span of the current
    OpenTelemetry span when the caller gave none."""
    for field in CONTEXT_FIELDS:
        value = getattr(record, field, None)
        if value is not None:
            line[field] = value
    if "workflow_id" not in line:
        for name in ("temporal_workflow", "temporal_activity"):
            info = getattr(record, name, None)
            if isinstance(info, dict) and info.get("workflow_id"):
                line["workflow_id"] = info["workflow_id"]
                break
    if "trace_id" not in line:
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, context."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            # UTC with milliseconds and its offset: collectors order lines from several machines by it.
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        _context(record, line)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A terminal's line (ITILFLOW_LOG_FORMAT=text), redacted like the JSON one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def install(level: int | str = logging.INFO, *, json_lines: bool = True) -> None:
    """Route the root logger's output through the JSON (or the text) formatter, replacing handlers.
    Servers started after this must leave logging alone (uvicorn: `log_config=None`), so their
    lines reach the root logger and are formatted and redacted here too."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # The state machine library logs every callback at INFO, from workflow code: three lines per
    # action, and again whenever a history replays. Its warnings still come through.
    logging.getLogger("transitions").setLevel(max(logging.WARNING, root.level))
