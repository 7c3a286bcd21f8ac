"""The bridge from Temporal's metric buffer to Prometheus: counters summed, gauges kept, histograms
bucketed, labels as given; and /metrics' rule for who may read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BUFFERED_METRIC_KIND_HISTOGRAM,
    BufferedMetricKind,
)

from api.telemetry import mask_query
from core.metrics import scrape_allowed
from core.sdk_metrics import SdkMetrics


@dataclass
class _Metric:
    name: str
    kind: BufferedMetricKind
    description: str | None = None
    unit: str | None = None


@dataclass
class _Update:
    metric: _Metric
    value: float
    attributes: dict[str, str] = field(default_factory=dict)


class _Buffer:
    def __init__(self, updates: list[_Update]) -> None:
        self.updates = updates

    def retrieve_updates(self) -> list[_Update]:
        out, self.updates = self.updates, []
        return out


def test_counters_gauges_and_histograms() -> None:
    requests = _Metric("temporal_request", BUFFERED_METRIC_KIND_COUNTER, "requests")
    slots = _Metric("temporal_worker_task_slots_available", BUFFERED_METRIC_KIND_GAUGE)
    latency = _Metric("temporal_request_latency", BUFFERED_METRIC_KIND_HISTOGRAM)
    buffer = _Buffer(
        [
            _Update(requests, 2, {"operation": "StartWorkflowExecution"}),
            _Update(requests, 3, {"operation": "StartWorkflowExecution"}),
            _Update(slots, 10, {"worker_type": "ActivityWorker"}),
            _Update(slots, 7, {"worker_type": "ActivityWorker"}),
            _Update(latency, 0.02, {"operation": "Poll"}),
            _Update(latency, 3.0, {"operation": "Poll"}),
        ]
    )
    registry = CollectorRegistry()
    registry.register(SdkMetrics(buffer))  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    assert 'temporal_request_total{operation="StartWorkflowExecution"} 5.0' in text
    assert 'temporal_worker_task_slots_available{worker_type="ActivityWorker"} 7.0' in text
    assert 'temporal_request_latency_bucket{le="0.025",operation="Poll"} 1.0' in text
    assert 'temporal_request_latency_bucket{le="+Inf",operation="Poll"} 2.0' in text
    assert 'temporal_request_latency_sum{operation="Poll"} 3.02' in text
    # Counters keep counting across scrapes.
    buffer.updates.append(_Update(requests, 1, {"operation": "StartWorkflowExecution"}))
    assert (
        'temporal_request_total{operation="StartWorkflowExecution"} 6.0' in generate_latest(registry).decode()
    )


def test_who_may_scrape() -> None:
    assert scrape_allowed(None, None, "127.0.0.1")
    assert scrape_allowed(None, None, "::1")
    assert not scrape_allowed(None, None, "10.1.2.3")
    assert not scrape_allowed("t0k", None, "127.0.0.1")  # a token, once set, is needed from anywhere
    assert not scrape_allowed("t0k", "Bearer t0", "10.1.2.3")
    assert scrape_allowed("t0k", "Bearer t0k", "10.1.2.3")
    assert scrape_allowed("t0k", "bearer t0k", None)


def test_query_values_are_masked_in_span_urls() -> None:
    assert (
        mask_query("http://h/ui/oidc/callback?code=abc&state=xyz")
        == "http://h/ui/oidc/callback?code=***&state=***"
    )
    assert mask_query("/x?a=1") == "/x?a=***"
    assert mask_query("code=abc") == "code=***"
