"""OpenTelemetry traces: exported over OTLP/HTTP when the settings name a collector, else none.

`install(settings, "itilflow-api")` at a process's start makes the tracer provider the global one;
the API's request spans (api/telemetry.py) and Temporal's interceptor (client/tracing.py) then
follow it. Without an endpoint nothing is installed and those cost nothing: the interceptor is not
even added. Spans are batched and sent from a thread of the SDK; a collector that is down loses
spans, never requests.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from core.settings import Settings

_installed: TracerProvider | None = None


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT's meaning)."""
    return endpoint.rstrip("/") + "/v1/traces"


def headers(spec: str | None) -> dict[str, str]:
    """'name=value,name=value' (OTEL_EXPORTER_OTLP_HEADERS' form) as a dict."""
    out: dict[str, str] = {}
    for part in (spec or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            out[name.strip()] = value.strip()
    return out


def provider_from(settings: Settings, default_service: str) -> TracerProvider | None:
    """A tracer provider exporting to the settings' collector; None when no collector is set."""
    if not settings.otlp_endpoint:
        return None
    service = settings.service_name or default_service
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    secret = settings.otlp_headers.get_secret_value() if settings.otlp_headers else None
    exporter = OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint), headers=headers(secret))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def use(provider: TracerProvider) -> None:
    """Make `provider` this process's tracer provider (once per process: OpenTelemetry's rule)."""
    global _installed
    if _installed is None:
        trace.set_tracer_provider(provider)
        _installed = provider


def install(settings: Settings, default_service: str) -> TracerProvider | None:
    provider = provider_from(settings, default_service)
    if provider is not None:
        use(provider)
    return provider


def active() -> TracerProvider | None:
    """The provider installed in this process, if tracing is on."""
    return _installed


def shutdown() -> None:
    """Send the spans still batched (at a process's end)."""
    if _installed is not None:
        _installed.shutdown()
