"""The API's request spans (OpenTelemetry's FastAPI instrumentation), when tracing is on.

Each request becomes a server span named by its route template (`POST /api/v1/processes/{ref}/
transitions`); Temporal's client interceptor (client/tracing.py) hangs the Update under it, and the
worker continues from there, so one trace runs from the request to the activities.

What a span must not carry: the calendar feed's path is its secret (`/feed/{token}.ics`), so feeds
are not traced; query strings can hold an OIDC authorization code, so their values are masked. Headers
are never recorded (the instrumentation records none unless told to).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import Span

from core import tracing

# Regexes of URLs not traced: the scrape and probe endpoints (noise), the calendar feeds (secret paths).
EXCLUDED = "/metrics$,/healthz$,/feed/"
_URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.query")
_QUERY_VALUE = re.compile(r"=([^&#]*)")


def mask_query(value: str) -> str:
    """A URL (or query) with every query parameter's value replaced by ***."""
    head, sep, query = value.partition("?") if "?" in value or "=" not in value else ("", "", value)
    masked = _QUERY_VALUE.sub("=***", query)
    return f"{head}{sep}{masked}" if sep or head else masked


def _request_hook(span: Span, scope: dict[str, Any]) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str) and "=" in value:
            span.set_attribute(name, mask_query(value))


def instrument(app: FastAPI) -> bool:
    """Trace the app's requests when this process has a tracer provider (core/tracing.py)."""
    provider = tracing.active()
    if provider is None:
        return False
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=EXCLUDED,
        server_request_hook=_request_hook,
        exclude_spans=["receive", "send"],  # a span per body chunk says nothing here
    )
    return True
