"""A record through its whole lifecycle on a real Temporal server, with the read model checked."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from client.launch import launch_record
from core.tables import AuditRow, RecordRow
from tests.conftest import pinned_fixture
from workflows.contracts import Actor, FireTransitionInput, SnapshotQuery
from workflows.process import ProcessWorkflow

ALICE = Actor(username="alice", roles=["requester"])
BOB = Actor(username="bob", roles=["agent"], groups=["desk"])


async def start(client: Client, engine: Engine, queue: str, **fields: str):  # type: ignore[no-untyped-def]
    return await launch_record(
        client,
        engine,
        task_queue=queue,
        pinned=pinned_fixture("mini.yaml"),
        record_id=uuid.uuid4().hex[:20],
        title="Printer on fire",
        fields={"impact": "2", "urgency": "2", **fields},
        actor=ALICE,
    )


async def test_full_lifecycle(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    snap = await start(temporal_client, db_engine, task_queue)
    assert snap.state == "new" and snap.priority == "3" and snap.number.startswith("MIN")
    handle = temporal_client.get_workflow_handle_for(ProcessWorkflow.run, snap.id)
    snap = await handle.execute_update(
        ProcessWorkflow.fire_transition,
        FireTransitionInput(actor=BOB, trigger="accept", fields={"assignee": "bob"}),
    )
    assert snap.state == "in_progress"
    snap = await handle.execute_update(
        ProcessWorkflow.fire_transition,
        FireTransitionInput(actor=BOB, trigger="resolve", fields={"resolution": "replaced toner"}),
    )
    assert snap.state == "resolved"
    assert snap.slas[0].state == "met"
    snap = await handle.execute_update(
        ProcessWorkflow.fire_transition, FireTransitionInput(actor=ALICE, trigger="confirm")
    )
    assert snap.state == "closed" and snap.final
    final = await handle.result()
    assert final.state == "closed"
    with Session(db_engine) as session:
        row = session.get(RecordRow, snap.id)
        assert row is not None and row.state == "closed" and row.closed_at is not None
        audit = session.exec(
            select(AuditRow).where(AuditRow.record_id == snap.id).order_by(col(AuditRow.seq))
        ).all()
    seqs = [a.seq for a in audit]
    assert seqs == list(range(1, len(seqs) + 1))
    moves = [(a.from_state, a.to_state, a.actor) for a in audit if a.action == "transition"]
    assert moves == [
        ("new", "in_progress", "bob"),
        ("in_progress", "resolved", "bob"),
        ("resolved", "closed", "alice"),
    ]


@pytest.mark.parametrize(
    ("actor", "trigger", "fields", "kind"),
    [
        (ALICE, "accept", {"assignee": "bob"}, "NotAllowed"),
        (BOB, "resolve", {}, "WrongState"),
        (BOB, "accept", {}, "MissingFields"),
        (BOB, "accept", {"assignee": "bob", "risk": "high"}, "InvalidFields"),
        (BOB, "no_such", {}, "UnknownTrigger"),
    ],
)
async def test_refused_updates_write_nothing(
    temporal_client: Client,
    db_engine: Engine,
    task_queue: str,
    worker: object,
    actor: Actor,
    trigger: str,
    fields: dict[str, str],
    kind: str,
) -> None:
    snap = await start(temporal_client, db_engine, task_queue)
    handle = temporal_client.get_workflow_handle_for(ProcessWorkflow.run, snap.id)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(
            ProcessWorkflow.fire_transition, FireTransitionInput(actor=actor, trigger=trigger, fields=fields)
        )
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == kind
    assert cause.message  # names the rule
    after = await handle.query(ProcessWorkflow.snapshot, SnapshotQuery())
    assert after.state == "new" and after.seq == snap.seq
    with Session(db_engine) as session:
        assert len(session.exec(select(AuditRow).where(AuditRow.record_id == snap.id)).all()) == snap.seq
    # The workflow task never failed: the record still accepts a valid action.
    ok = await handle.execute_update(
        ProcessWorkflow.fire_transition,
        FireTransitionInput(actor=BOB, trigger="accept", fields={"assignee": "bob"}),
    )
    assert ok.state == "in_progress"
