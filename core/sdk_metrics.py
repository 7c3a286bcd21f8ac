"""The Temporal SDK's metrics (and what workflows record on its workflow meter) on our /metrics.

Temporal's Rust core can serve Prometheus itself (`PrometheusConfig`), but on a port of its own: the
API would then answer two scrape endpoints and the worker three. Instead its runtime writes every
update into a `MetricBuffer`, and this collector folds the buffer into prometheus-client's registry,
so one /metrics per process carries Temporal's metrics (`temporal_workflow_task_schedule_to_start_
latency`, `temporal_request_failure`, `temporal_sticky_cache_size`, ...), ours, and the process's.

Counters arrive as deltas and are summed; gauges keep their last value; histogram values are
counted into fixed buckets here (seconds, Temporal's durations are asked for as seconds). The buffer
is drained every second by a thread and at every scrape, because a full buffer drops updates.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BufferedMetricUpdate,
    LogForwardingConfig,
    LoggingConfig,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

# Updates the core keeps between drains; at one drain a second this is far beyond any worker's rate.
BUFFER_SIZE: Final = 200_000
DRAIN_EVERY: Final = 1.0
# Seconds: Temporal's latencies (milliseconds to minutes) and ours (timer lag).
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Series:
    kind: str  # counter | gauge | histogram
    help: str
    values: dict[Labels, float] = field(default_factory=dict)
    buckets: dict[Labels, list[int]] = field(default_factory=dict)
    sums: dict[Labels, float] = field(default_factory=dict)


def _labels(attributes: Mapping[str, object]) -> Labels:
    return tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


class SdkMetrics(Collector):
    """A prometheus-client collector over a Temporal runtime's metric buffer."""

    def __init__(self, buffer: MetricBuffer) -> None:
        self._buffer = buffer
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()

    def drain(self) -> None:
        with self._lock:
            for update in self._buffer.retrieve_updates():
                self._fold(update)

    def _fold(self, update: BufferedMetricUpdate) -> None:
        metric = update.metric
        kind = {BUFFERED_METRIC_KIND_COUNTER: "counter", BUFFERED_METRIC_KIND_GAUGE: "gauge"}.get(
            metric.kind, "histogram"
        )
        series = self._series.get(metric.name)
        if series is None:
            series = self._series[metric.name] = _Series(kind, metric.description or metric.name)
        labels = _labels(update.attributes)
        value = float(update.value)
        if kind == "counter":
            series.values[labels] = series.values.get(labels, 0.0) + value
        elif kind == "gauge":
            series.values[labels] = value
        else:
            counts = series.buckets.setdefault(labels, [0] * (len(BUCKETS) + 1))
            counts[bisect.bisect_left(BUCKETS, value)] += 1
            series.sums[labels] = series.sums.get(labels, 0.0) + value

    def collect(self) -> Iterator[Metric]:
        self.drain()
        with self._lock:
            for name, series in sorted(self._series.items()):
                yield from _families(name, series)


def _families(name: str, series: _Series) -> Iterator[Metric]:
    keys = sorted({k for labels in (*series.values, *series.buckets) for k, _ in labels})
    if series.kind == "counter":
        counter = CounterMetricFamily(name, series.help, labels=keys)
        for labels, value in series.values.items():
            counter.add_metric(_ordered(labels, keys), value)
        yield counter
    elif series.kind == "gauge":
        gauge = GaugeMetricFamily(name, series.help, labels=keys)
        for labels, value in series.values.items():
            gauge.add_metric(_ordered(labels, keys), value)
        yield gauge
    else:
        histogram = HistogramMetricFamily(name, series.help, labels=keys)
        for labels, counts in series.buckets.items():
            cumulative, running = [], 0
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                running += count
                cumulative.append((bound, float(running)))
            histogram.add_metric(_ordered(labels, keys), cumulative, series.sums[labels])
        yield histogram


def _ordered(labels: Labels, keys: list[str]) -> list[str]:
    given = dict(labels)
    return [given.get(k, "") for k in keys]


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """This process's Temporal runtime, its metrics bridged into the registry (created once: every
    runtime is a thread pool of its own). Clients connect with it (client/connection.py)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
            # The core's own log lines go through Python's logging (JSON, redacted: core/jsonlog.py).
            core_logs = LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
            _runtime = Runtime(
                telemetry=TelemetryConfig(logging=core_logs, metrics=buffer, attach_service_name=False)
            )
            collector = SdkMetrics(buffer)
            REGISTRY.register(collector)
            threading.Thread(
                target=_drain_forever, args=(collector,), name="sdk-metrics", daemon=True
            ).start()
        return _runtime


def _drain_forever(collector: SdkMetrics) -> None:
    stop = threading.Event()
    while not stop.wait(DRAIN_EVERY):
        collector.drain()
