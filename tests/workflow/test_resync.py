"""An Update whose workflow task wrote the read model and was then discarded, and never retried, left
its rows open with nothing to replace them (bench/chaos.py found one: a change shown submitted and
waiting for the CAB in the read model, still in assessment in Temporal). The `resync` signal, which
the API sends when Temporal did not answer an action, writes the committed state again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from activities.records import RecordActivities
from client.audit_check import compare
from core.tables import RecordRow
from tests.engine_helpers import BOB, audit, new_record
from workflows.contracts import AuditEvent, PersistRecordInput
from workflows.process import ProcessWorkflow


async def test_resync_replaces_the_rows_of_an_update_temporal_lost(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue)
    snap = await record.fire(BOB, "accept", assignee="bob")
    # What a discarded task of a lost Update writes: its event after the committed state, and the
    # record row as that Update left it.
    ghost = AuditEvent(
        seq=snap.seq + 1, at=datetime.now(UTC), actor="bob", action="comment", comment="never committed"
    )
    lost = snap.model_copy(update={"seq": snap.seq + 1, "state": "resolved"})
    RecordActivities(db_engine).persist_record(
        PersistRecordInput(snapshot=lost, events=[ghost], committed_seq=snap.seq, written_seq=snap.seq)
    )
    assert not (await compare(temporal_client, db_engine, record.id)).ok

    await record.handle.signal(ProcessWorkflow.resync)
    for _ in range(100):
        with Session(db_engine) as session:
            row = session.get(RecordRow, record.id)
            if row is not None and row.seq == snap.seq:
                break
        await asyncio.sleep(0.1)
    check = await compare(temporal_client, db_engine, record.id)
    assert check.ok, check.describe()
    assert [a.seq for a in audit(db_engine, record.id)] == list(range(1, snap.seq + 1))
    assert row is not None and row.state == snap.state
    # The record goes on as before.
    after = await record.fire(BOB, "resolve", resolution="fixed")
    assert after.seq > snap.seq and (await compare(temporal_client, db_engine, record.id)).ok
