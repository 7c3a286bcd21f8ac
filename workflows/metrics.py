"""What a record's workflow measures when its timers fire: SLA thresholds crossed, and how late.

Through Temporal's workflow metric meter, which records nothing while a history replays: a worker
that picks a record up again after a restart or a cache eviction does not count its thresholds
twice. Nothing here produces a command or reads anything back, so histories replay unchanged.
The figures reach /metrics through the worker's runtime (core/sdk_metrics.py).

Labels: the definition's key, the clock's name and the level (warning below 100 %, breach from it);
never a record's number. Timer lag is the time between a timer's instant and the workflow task that
fired it; thresholds whose notifications the worker's alarm clock already sent fire their durable
timer a few seconds after (ALARM_GRACE), by design: their punctuality is the alarm's lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from temporalio import workflow

from workflows.contracts import AuditEvent
from workflows.sla import BREACH_AT

# The same names as core/metrics.py (which workflow code may not import).
SLA_THRESHOLDS = "itilflow_sla_thresholds"
TIMER_LAG = "itilflow_timer_lag_seconds"


def timers_fired(definition: str, events: Sequence[AuditEvent], now: datetime) -> None:
    """Count the SLA thresholds among `events` (those of one firing of the timers) and record each
    timer instant's lag behind `now` (workflow time of the task that fired them)."""
    if not events:
        return
    meter = workflow.metric_meter()
    lag = meter.create_histogram_float(TIMER_LAG, "How late durable timers fired after their instant.", "s")
    seen: set[datetime] = set()
    for event in events:
        if event.action == "sla_threshold":
            percent = float(event.details.get("at_percent", 0))
            level = "breach" if percent >= BREACH_AT else "warning"
            meter.create_counter(SLA_THRESHOLDS, "SLA thresholds crossed (warnings and breaches).").add(
                1, {"definition": definition, "sla": str(event.details.get("sla", "")), "level": level}
            )
        if event.at < now and event.at not in seen:
            seen.add(event.at)
            kind = "sla" if event.action == "sla_threshold" else event.action
            lag.record((now - event.at).total_seconds(), {"definition": definition, "timer": kind})
