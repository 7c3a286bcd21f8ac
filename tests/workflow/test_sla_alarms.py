"""SLA alarms: notifications armed ahead of their deadline, sent at it, once, and never for a record
that changed after arming. Real Temporal server, real database, the shipped worker.

mini.yaml's P1 target is 4 s, so its 75 % warning (notify only) falls 3 s into running time: well
inside ALARM_LEAD, so it is armed as soon as the record starts and again after every change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from activities.notifications import NotificationActivities
from core.db import insert_ignore, session_scope
from core.tables import NotificationRow
from tests.engine_helpers import BOB, audit, new_record
from tests.workflow.test_workflow_timers import wait_for


def notes(engine: Engine, record_id: str, template: str) -> list[NotificationRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(NotificationRow).where(
                    NotificationRow.record_id == record_id, NotificationRow.template == template
                )
            ).all()
        )


async def test_armed_warning_goes_out_once_and_never_early(
    temporal_client: Client,
    db_engine: Engine,
    task_queue: str,
    worker: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="itilflow.alarms")
    record = await new_record(temporal_client, db_engine, task_queue, impact="1", urgency="1")
    snap = await record.fire(BOB, "accept", assignee="bob")
    thresholds = await wait_for(db_engine, record.id, "sla_threshold", 1)
    (warning,) = [a for a in thresholds if a.details["at_percent"] == 75.0]
    await asyncio.sleep(1.0)  # the timer's own notify activity has run by now, and found it sent
    rows = notes(db_engine, record.id, "sla_warning")
    assert [(n.recipient, n.channel, n.status) for n in rows] == [("bob", "inbox", "sent")]
    assert rows[0].created_at >= warning.at  # at the deadline, never before it
    # It was the alarm armed after `accept` (the record's seq then) that rang, not a stale one.
    assert f"alarm for {record.id} rang at seq {snap.seq}" in caplog.text


async def test_alarm_stands_down_when_the_clock_pauses(
    temporal_client: Client,
    db_engine: Engine,
    task_queue: str,
    worker: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="itilflow.alarms")
    record = await new_record(temporal_client, db_engine, task_queue, impact="1", urgency="1")
    await record.fire(BOB, "accept", assignee="bob")
    paused = await record.fire(BOB, "wait")
    assert paused.slas[0].state == "paused"
    await asyncio.sleep(4.0)  # past the 3 s the warning was armed for
    assert notes(db_engine, record.id, "sla_warning") == []
    assert not [a for a in audit(db_engine, record.id) if a.action == "sla_threshold"]
    assert f"alarm for {record.id} stands down" in caplog.text


def test_a_notification_row_is_claimed_by_one_sender(db_engine: Engine) -> None:
    """The alarm and the notify activity can reach one pending e-mail together: one of them sends."""
    key = f"claim-{uuid.uuid4().hex}:bob:email"
    now = datetime.now(UTC)
    with session_scope(db_engine) as session:
        insert_ignore(
            session,
            NotificationRow,
            [
                {
                    "key": key,
                    "record_id": "r1",
                    "template": "t",
                    "channel": "email",
                    "recipient": "bob",
                    "address": "bob@example.test",
                    "language": "en",
                    "subject": "s",
                    "body": "b",
                    "status": "pending",
                    "created_at": now,
                    "sent_at": None,
                }
            ],
            ["key"],
        )
    with Session(db_engine) as session:
        row = session.exec(select(NotificationRow).where(NotificationRow.key == key)).one()
    activities = NotificationActivities(db_engine)
    assert activities._claim(row) is True
    assert activities._claim(row) is False  # the same attempt count: already taken
    with Session(db_engine) as session:
        assert session.exec(select(NotificationRow).where(NotificationRow.key == key)).one().attempts == 1
