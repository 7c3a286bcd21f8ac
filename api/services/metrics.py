"""What the API measures: actions and their outcomes, refusals by rule, approvals waiting.

Actions are counted where the API learns their outcome (the Update's answer), so a retried request
that Temporal answers from its Update id is one action, and a request answered from the idempotency
store never reaches here. Approvals waiting are read from the read model at each scrape (one grouped
query): a gauge that every API replica reports alike, so dashboards take their `max`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from prometheus_client import Gauge
from sqlalchemy import Engine, Table, func, select

from core.metrics import ACTIONS, REFUSALS
from core.tables import ApprovalRow, RecordRow
from workflows.engine import RefusalKind

APPLIED: Final = "applied"
REFUSED: Final = "refused"
FAILED: Final = "failed"
# A trigger the definition does not have is the caller's word, not the definition's: counting it by
# name would let any signed-in caller add series without end.
UNKNOWN_TRIGGER: Final = "(unknown)"

_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
_APPROVALS: Table = ApprovalRow.__table__  # type: ignore[attr-defined]

APPROVALS_WAITING = Gauge(
    "itilflow_approvals_waiting",
    "Approval levels open now (waiting for decisions), by definition.",
    ["definition"],
)
APPROVAL_OLDEST_AGE = Gauge(
    "itilflow_approvals_oldest_waiting_seconds",
    "Age of the oldest approval level still waiting, by definition.",
    ["definition"],
)


def count_action(definition: str, trigger: str, outcome: str, rule: str | None = None) -> None:
    if rule == RefusalKind.UnknownTrigger:
        trigger = UNKNOWN_TRIGGER
    ACTIONS.labels(definition=definition, trigger=trigger, outcome=outcome).inc()


def count_refusal(rule: str) -> None:
    REFUSALS.labels(rule=rule).inc()


def refresh_approvals(engine: Engine, now: datetime | None = None) -> None:
    """Set the approval gauges from the read model (approvals in state `pending`)."""
    now = now or datetime.now(UTC)
    records, approvals = _RECORDS.c, _APPROVALS.c
    query = (
        select(records.definition_key, func.count(), func.min(approvals.opened_at))
        .select_from(_APPROVALS.join(_RECORDS, records.id == approvals.record_id))
        .where(approvals.state == "pending")
        .group_by(records.definition_key)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for gauge in (APPROVALS_WAITING, APPROVAL_OLDEST_AGE):
        gauge.clear()  # a definition with nothing waiting any more reports nothing, not its old figure
    for definition, count, oldest in rows:
        APPROVALS_WAITING.labels(definition=definition).set(count)
        if oldest is not None:
            age = now - (oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC))
            APPROVAL_OLDEST_AGE.labels(definition=definition).set(max(0.0, age.total_seconds()))
