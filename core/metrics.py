"""itilflow's own Prometheus metrics, and the text a scrape of this process answers.

One process-wide registry (prometheus-client's default, which also carries the process's CPU, memory
and open files): the API counts actions and refusals and reports approvals waiting; the worker counts
notification deliveries and alarm lag. What workflow code measures (SLA thresholds, timer lag) goes
through Temporal's replay-safe workflow meter instead and reaches this registry by the SDK bridge
(core/sdk_metrics.py), so a replayed history never counts twice.

Labels carry definition keys, trigger names, rule kinds, channels and outcomes only: never a record
number, a user or a field value (they would leak record data to whoever reads the metrics, and an
unbounded label set would swamp Prometheus).
"""

from __future__ import annotations

import hmac
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# `_created` series double every counter's lines and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds; from "on time" to "a shift late": timers and alarms are expected well under a second.
LAG_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)

ACTIONS = Counter(
    "itilflow_actions",
    "Actions asked of records through the API, by definition, trigger and outcome "
    "(applied, refused, failed).",
    ["definition", "trigger", "outcome"],
)
REFUSALS = Counter(
    "itilflow_refusals",
    "Requests the engine or the API refused, by the rule's kind (WrongState, NotAllowed, "
    "SeparationOfDuties, ...).",
    ["rule"],
)
NOTIFICATIONS = Counter(
    "itilflow_notifications",
    "Deliveries of e-mails and webhooks, by channel and outcome (delivered, failed, failed_permanently).",
    ["channel", "outcome"],
)
ALARM_LAG = Histogram(
    "itilflow_sla_alarm_lag_seconds",
    "How late the worker's SLA alarm clock rang after the threshold's deadline.",
    buckets=LAG_BUCKETS,
)

# Names of the metrics the workflows record through Temporal's workflow meter (workflows/metrics.py
# uses the same strings; it cannot import this module).
SLA_THRESHOLDS: Final = "itilflow_sla_thresholds"
TIMER_LAG: Final = "itilflow_timer_lag_seconds"


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus's text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def scrape_allowed(token: str | None, authorization: str | None, client_host: str | None) -> bool:
    """Who may read /metrics: with a metrics token set, whoever sends it as `Bearer`; without one,
    loopback clients only (a Prometheus agent or a curl on the same machine; `itilflow dev`)."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    return client_host is not None and (client_host in LOOPBACK or client_host.startswith("127."))
