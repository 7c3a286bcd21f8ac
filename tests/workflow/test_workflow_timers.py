"""Durable timers on a real Temporal server: SLA thresholds (with a pause), re-prioritisation, timed transitions.

The fixture's P1 resolution target is 4 s on a 7x24 calendar, so 75 % falls 3 s into running time.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from core.tables import AuditRow, NotificationRow
from tests.engine_helpers import ALICE, BOB, audit, maybe_record_history, new_record
from workflows.contracts import UpdateFieldsInput
from workflows.process import ProcessWorkflow


async def wait_for(
    engine: Engine, record_id: str, action: str, count: int, timeout: float = 20.0
) -> list[AuditRow]:
    for _ in range(int(timeout / 0.2)):
        rows = [a for a in audit(engine, record_id) if a.action == action]
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"{action} x{count} not seen on {record_id}: {[a.action for a in audit(engine, record_id)]}"
    )


def ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000


async def test_sla_warning_and_breach_with_pause(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue, impact="1", urgency="1")
    assert record.first.priority == "1" and record.first.slas[0].target == "PT4S"
    await record.fire(BOB, "accept", assignee="bob")
    await record.fire(BOB, "wait")
    await asyncio.sleep(1.5)  # paused: this time must not count
    await record.fire(BOB, "resume")
    warnings = await wait_for(db_engine, record.id, "sla_threshold", 2)
    rows = audit(db_engine, record.id)
    started = next(a for a in rows if a.action == "sla_started")
    paused = next(a for a in rows if a.action == "sla_paused")
    resumed = next(a for a in rows if a.action == "sla_resumed")
    consumed = paused.at - started.at
    warn, breach = sorted(warnings, key=lambda a: a.details["at_percent"])
    assert (warn.details["at_percent"], breach.details["at_percent"]) == (75.0, 100.0)
    # Deadlines are absolute instants in business time, moved by exactly the paused interval.
    assert abs(ms(warn.at - (resumed.at + timedelta(seconds=3) - consumed))) < 2
    assert abs(ms(breach.at - (resumed.at + timedelta(seconds=4) - consumed))) < 2
    assert warn.at > resumed.at  # nothing fired while paused
    # Each threshold fired once, and its actions ran: the warning notified, the breach escalated.
    await asyncio.sleep(0.5)
    assert [a.details["at_percent"] for a in audit(db_engine, record.id) if a.action == "sla_threshold"] == [
        75.0,
        100.0,
    ]
    escalated = next(a for a in audit(db_engine, record.id) if a.action == "escalated")
    assert escalated.details == {
        "field": "support_level",
        "from": "L1",
        "to": "L2",
        "assignment_group": "l2-team",
    }
    snap = await record.snapshot()
    assert snap.fields["support_level"] == "L2" and snap.assignment_group == "l2-team"
    assert snap.slas[0].state == "breached"
    with Session(db_engine) as session:
        notes = session.exec(
            select(NotificationRow).where(
                NotificationRow.record_id == record.id, NotificationRow.template == "sla_warning"
            )
        ).all()
    assert {n.recipient for n in notes} == {"bob"}
    assert all(n.created_at >= warn.at for n in notes)  # never early
    # Timers, a pause, thresholds and their actions: worth keeping for replay after code changes.
    await record.fire(BOB, "resolve", resolution="done")
    await record.fire(ALICE, "confirm")
    await record.handle.result()
    await maybe_record_history(record.handle, "mini_sla_breach")


async def test_reprioritising_moves_the_deadline(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue, impact="2", urgency="2")
    first = record.first.slas[0]
    assert record.first.priority == "3" and first.target == "PT20S" and first.due_at is not None
    snap = await record.handle.execute_update(
        ProcessWorkflow.update_fields, UpdateFieldsInput(actor=BOB, fields={"impact": "1", "urgency": "1"})
    )
    assert snap.priority == "1" and snap.slas[0].target == "PT4S"
    assert snap.slas[0].due_at is not None and snap.slas[0].due_at < first.due_at
    actions = [a.action for a in audit(db_engine, record.id)]
    assert "priority_changed" in actions and "sla_retargeted" in actions


async def test_timed_transition_auto_closes_and_reopen_resets_it(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue)
    await record.fire(BOB, "accept", assignee="bob")
    await record.fire(BOB, "resolve", resolution="done")
    await asyncio.sleep(1.5)
    snap = await record.fire(ALICE, "reopen", comment="still broken")
    assert snap.state == "in_progress"
    resolved = await record.fire(BOB, "resolve", resolution="really done")
    final = await asyncio.wait_for(record.handle.result(), timeout=20)
    assert final.state == "closed"
    close = [a for a in audit(db_engine, record.id) if a.to_state == "closed"]
    assert len(close) == 1 and close[0].actor == "system:timer"
    # 3 s after the *second* resolution: the reopen reset the timer.
    assert abs(ms(close[0].at - (resolved.updated_at + timedelta(seconds=3)))) < 2
