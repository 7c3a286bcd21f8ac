"""One trace from an HTTP request through the Temporal Update to its activities, exported over OTLP/HTTP
to a receiver in the test (a real HTTP endpoint decoding OpenTelemetry's protobuf), on a real Temporal
server; the API's log line of the action carries the same trace id."""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine

from core import tracing
from core.jsonlog import JsonFormatter
from core.settings import Settings
from tests.api.observed import observed_stack


class Receiver:
    """An OTLP/HTTP traces endpoint: keeps every span it is sent, by name, with its ids."""

    def __init__(self) -> None:
        self.spans: list[dict[str, str]] = []
        self.services: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                assert self.path == "/v1/traces"
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for attr in resource.resource.attributes:
                        if attr.key == "service.name":
                            receiver.services.add(attr.value.string_value)
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            receiver.spans.append(
                                {
                                    "name": span.name,
                                    "trace": span.trace_id.hex(),
                                    "id": span.span_id.hex(),
                                    "parent": span.parent_span_id.hex(),
                                }
                            )
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def provider(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[TracerProvider]:
    """The provider `itilflow api` would install for OTEL_EXPORTER_OTLP_ENDPOINT=<receiver>, made this
    process's active one for the test only (OpenTelemetry's global provider cannot be unset)."""
    made = tracing.provider_from(Settings(otlp_endpoint=receiver.url, service_name="itilflow-test"), "x")
    assert made is not None
    monkeypatch.setattr(tracing, "_installed", made)
    yield made
    made.shutdown()


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_one_trace_from_request_through_update_to_activities(
    settings: Settings,
    db_engine: Engine,
    tokens: dict[str, str],
    receiver: Receiver,
    provider: TracerProvider,
) -> None:
    logs = Captured()
    logger = logging.getLogger("itilflow.api.actions")
    logger.addHandler(logs)
    logger.setLevel(logging.INFO)
    try:
        async with observed_stack(settings, db_engine, tokens) as (api, _):
            key = await api.publish_mini()
            rec = (await api.create("alice", key)).json()
            url = f"/api/v1/processes/{rec['id']}/transitions"
            r = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
            assert r.status_code == 200, r.text
            assert provider.force_flush(10_000)
    finally:
        logger.removeHandler(logs)

    assert receiver.services == {"itilflow-test"}
    request = next(s for s in receiver.spans if s["name"] == "POST /api/v1/processes/{record}/transitions")
    trace = [s for s in receiver.spans if s["trace"] == request["trace"]]
    by_name = {s["name"]: s for s in trace}
    by_id = {s["id"]: s for s in trace}
    for name in (
        "StartWorkflowUpdate:fire_transition",
        "ValidateUpdate:fire_transition",
        "HandleUpdate:fire_transition",
        "StartActivity:persist_record",
        "RunActivity:persist_record",
    ):
        assert name in by_name, (name, sorted(by_name))

    def ancestors(span: dict[str, str]) -> list[str]:
        out = []
        while span["parent"] in by_id:
            span = by_id[span["parent"]]
            out.append(span["name"])
        return out

    # request → Update (client) → Update handler (worker) → activity scheduled → activity run
    assert ancestors(by_name["RunActivity:persist_record"])[:3] == [
        "StartActivity:persist_record",
        "HandleUpdate:fire_transition",
        "StartWorkflowUpdate:fire_transition",
    ]
    assert request["name"] in ancestors(by_name["StartWorkflowUpdate:fire_transition"])
    # The record's creation is a trace of its own, not this one.
    # The record's creation is a trace of its own: the request, the update-with-start, the first
    # task's Update and its activities.
    create = next(s for s in receiver.spans if s["name"] == "POST /api/v1/processes")
    assert create["trace"] != request["trace"]
    created = {s["name"] for s in receiver.spans if s["trace"] == create["trace"]}
    assert {"UpdateWithStartWorkflow:ProcessWorkflow", "RunWorkflow:ProcessWorkflow"} <= created, created
    assert "RunActivity:persist_record" in created, created

    # The API's log line of the action: record number, workflow id and this trace's id.
    action = [json.loads(line) for line in logs.lines if "accept" in line]
    assert action, logs.lines
    assert action[0]["record"] == rec["number"]
    assert action[0]["workflow_id"] == rec["id"]
    assert action[0]["trace_id"] == request["trace"]
