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
from typing import Final

# Extra fields a caller may pass with `extra={...}`; only these are copied out.
CONTEXT_FIELDS: Final = ("record", "workflow_id", "trace_id", "span_id", "route", "status")

# What a secret looks like in a message: a key that names one, then its value.
_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|bearer|webhook[_-]?secret)"
    r"(\s*[=:]\s*|\s+)(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s,;\"']+")
MASK: Final = "***"


def redact(text: str) -> str:
    """The text with every `name=value` / `name: value` secret replaced by ***."""
    text = _BEARER.sub(f"Bearer {MASK}", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, context."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def install(level: int = logging.INFO) -> None:
    """Route the root logger's output through the JSON formatter (replacing handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
