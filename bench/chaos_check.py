"""The chaos benchmark's verdict, from outside: the ledger of acknowledged requests against the read
model's audit trail, every record's read model against its workflow's history (client/audit_check.py),
every SLA threshold that fell due against its `sla_threshold` event, and every workflow asked whether
it is stuck (a workflow task pending for long, or a read model behind the workflow's own state)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus

from bench.chaos_load import Ack, Ledger
from client.audit_check import compare
from core.tables import AuditRow, RecordRow

SLA_TARGET = timedelta(seconds=20)  # bench/fixtures/chaos_sla.yaml
THRESHOLDS = (50, 100)
STUCK_TASK_S = 30.0


@dataclass
class Verdict:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    thresholds_due: int = 0
    thresholds_fired: int = 0


def _audit(engine: Engine, records: list[str]) -> list[AuditRow]:
    rows: list[AuditRow] = []
    with Session(engine) as session:
        for i in range(0, len(records), 500):
            chunk = records[i : i + 500]
            rows += session.exec(select(AuditRow).where(col(AuditRow.record_id).in_(chunk))).all()
    return rows


def _matches(ack: Ack, row: AuditRow) -> bool:
    if ack.kind == "start":
        return row.action == "created"
    if ack.kind == "comment":
        return row.action == "comment" and row.comment == ack.detail
    if ack.kind == "approval":
        return row.action == "approval_decision" and row.actor == ack.user
    return row.action == "transition" and row.actor == ack.user and row.details.get("trigger") == ack.detail


def check_ledger(ledger: Ledger, rows: list[AuditRow], verdict: Verdict) -> None:
    """Every acknowledged request exactly once in the audit trail."""
    by_record: dict[str, list[AuditRow]] = {}
    for row in rows:
        by_record.setdefault(row.record_id, []).append(row)
    verdict.acknowledged = len(ledger.acks)
    for ack in ledger.acks:
        found = sum(1 for row in by_record.get(ack.record, []) if _matches(ack, row))
        what = f"{ack.kind} {ack.detail[:40]} on {ack.record}"
        if found == 0:
            verdict.lost.append(what)
        elif found > 1:
            verdict.duplicated.append(f"{what} ({found} times)")


def check_thresholds(engine: Engine, ledger: Ledger, rows: list[AuditRow], verdict: Verdict) -> None:
    """Every threshold of a chaos SLA record that fell due recorded exactly once."""
    sla_records = [r for r, d in ledger.definitions.items() if d == "chaossla"]
    with Session(engine) as session:
        created = dict(
            session.exec(
                select(RecordRow.id, RecordRow.created_at).where(col(RecordRow.id).in_(sla_records))
            ).all()
        )
    fired = Counter(
        (row.record_id, row.details.get("at_percent"))
        for row in rows
        if row.action == "sla_threshold" and row.record_id in created
    )
    now = datetime.now(UTC)
    for record, at in created.items():
        for percent in THRESHOLDS:
            if at + SLA_TARGET * percent / 100 > now:
                continue
            verdict.thresholds_due += 1
            times = fired[(record, percent)]
            if times == 1:
                verdict.thresholds_fired += 1
            elif times > 1:
                verdict.duplicated.append(f"threshold {percent}% of {record} fired {times} times")
            else:
                verdict.lost.append(f"threshold {percent}% of {record} never fired")


async def _stuck(client: Client, record: str) -> str | None:
    handle = client.get_workflow_handle(record)
    described = await handle.describe()
    if described.status != WorkflowExecutionStatus.RUNNING:
        return f"{record}: {described.status}"
    pending = described.raw_description.pending_workflow_task
    if pending.HasField("scheduled_time"):
        age = time.time() - pending.scheduled_time.ToSeconds()
        if age > STUCK_TASK_S:
            return f"{record}: a workflow task pending for {age:.0f} s (attempt {pending.attempt})"
    return None


async def check_workflows(client: Client, engine: Engine, records: list[str], verdict: Verdict) -> None:
    """Each record's read model against its workflow's history and state; no workflow stuck."""
    gate = asyncio.Semaphore(8)

    async def one(record: str) -> None:
        async with gate:
            stuck = await _stuck(client, record)
            if stuck:
                verdict.stuck.append(stuck)
            result = await compare(client, engine, record)
        verdict.lost += [f"{record}: {x}" for x in result.lost]
        verdict.duplicated += [f"{record}: {x}" for x in result.duplicated]
        verdict.mismatches += [f"{record}: {x}" for x in result.mismatches]

    await asyncio.gather(*(one(r) for r in records))


async def settle(engine: Engine, ledger: Ledger, limit: float) -> None:
    """Wait until every due threshold has an event, or `limit` seconds: the durable timers of
    thresholds that fell due while the server or the workers were down fire when they are back."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        verdict = Verdict()
        records = list(ledger.definitions)
        check_thresholds(engine, ledger, _audit(engine, records), verdict)
        if verdict.thresholds_fired >= verdict.thresholds_due:
            return
        await asyncio.sleep(2)


async def verify(client: Client, engine: Engine, ledger: Ledger) -> Verdict:
    records = sorted({a.record for a in ledger.acks})
    verdict = Verdict()
    rows = _audit(engine, records)
    check_ledger(ledger, rows, verdict)
    check_thresholds(engine, ledger, rows, verdict)
    await check_workflows(client, engine, records, verdict)
    return verdict


def summary(verdict: Verdict) -> dict[str, Any]:
    return {
        "acknowledged": verdict.acknowledged,
        "lost": len(verdict.lost),
        "duplicated": len(verdict.duplicated),
        "thresholds_due": verdict.thresholds_due,
        "thresholds_fired": verdict.thresholds_fired,
    }
