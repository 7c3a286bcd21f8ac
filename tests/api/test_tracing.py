"""One trace from an HTTP request through the Temporal Update to its activities, exported over OTLP/HTTP
to a receiver in the test (a real HTTP endpoint decoding OpenTelemetry's protobuf), on a real Temporal
server; the API's log line of the action carries the same trace id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine

from core import tracing
from core.jsonlog import JsonFormatter
from core.settings import Settings
from tests.api.observed import observed_stack
from tests.api.otlp_receiver import Receiver


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
