"""Approval reminders, deadline escalation and expiry as durable timers on a real Temporal server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from core.tables import NotificationRow
from tests.engine_helpers import ALICE, CAROL, audit, new_record


async def test_reminder_then_escalation_and_expiry(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(
        temporal_client, db_engine, task_queue, fixture="approval_deadline.yaml", impact=None, urgency=None
    )
    snap = await record.fire(ALICE, "submit")
    task = snap.approvals[0]
    assert task.state == "pending" and task.deadline is not None
    await record.decide(CAROL, task.id)  # one of the two approvals needed
    final = await asyncio.wait_for(record.handle.result(), timeout=30)
    assert final.state == "rejected"  # on_expiry: reject
    rows = audit(db_engine, record.id)
    reminder = next(r for r in rows if r.action == "approval_reminder")
    deadline = next(r for r in rows if r.action == "approval_deadline")
    # Absolute instants from the opening: reminder at +2 s, deadline at +4 s.
    assert abs((reminder.at - task.opened_at) - timedelta(seconds=2)) < timedelta(milliseconds=2)
    assert abs((deadline.at - task.opened_at) - timedelta(seconds=4)) < timedelta(milliseconds=2)
    # The reminder goes to those who have not decided yet, never to Carol who has.
    assert "carol" not in reminder.details["to"] and {"dave", "erin"} <= set(reminder.details["to"])
    assert [r.action for r in rows].count("approval_reminder") == 1
    with Session(db_engine) as session:
        notes = session.exec(select(NotificationRow).where(NotificationRow.record_id == record.id)).all()
    reminded = {
        n.recipient for n in notes if n.template == "approval" and n.subject.startswith("Please decide")
    }
    assert {"dave", "erin"} <= reminded and "carol" not in reminded
    escalated = [n for n in notes if n.recipient == "boss"]
    assert escalated and escalated[0].language == "zh" and "审批升级" in escalated[0].subject
    closed = next(r for r in rows if r.to_state == "rejected")
    assert closed.actor == "system:approval:board"
