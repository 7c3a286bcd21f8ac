"""Small helpers shared by the workflow tests."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle

from client.launch import launch_record
from core.tables import AuditRow
from tests.conftest import pinned_fixture
from workflows.contracts import (
    Actor,
    DecideApprovalInput,
    FireTransitionInput,
    RecordSnapshot,
    SnapshotQuery,
    StartProcessInput,
)
from workflows.engine import Outcome, ProcessEngine
from workflows.process import ProcessWorkflow

ALICE = Actor(username="alice", roles=["requester"])
BOB = Actor(username="bob", roles=["agent"], groups=["desk"])
CAROL = Actor(username="carol", roles=["approver"], groups=["cab"])
DAVE = Actor(username="dave", roles=["approver"], groups=["cab"])
ERIN = Actor(username="erin", roles=["approver"], groups=["cab"])
BOSS = Actor(username="boss", roles=["approver"], groups=["managers"])


class Record:
    """A record under test: its handle plus shortcuts for the updates."""

    def __init__(self, client: Client, snapshot: RecordSnapshot) -> None:
        self.id = snapshot.id
        self.first = snapshot
        self.handle: WorkflowHandle[Any, RecordSnapshot] = client.get_workflow_handle_for(
            ProcessWorkflow.run, snapshot.id
        )

    async def fire(
        self, actor: Actor, trigger: str, comment: str | None = None, **fields: Any
    ) -> RecordSnapshot:
        return await self.handle.execute_update(
            ProcessWorkflow.fire_transition,
            FireTransitionInput(actor=actor, trigger=trigger, fields=fields, comment=comment),
        )

    async def decide(
        self, actor: Actor, approval_id: str, decision: str = "approve", comment: str | None = None
    ) -> RecordSnapshot:
        if decision == "reject" and comment is None:
            comment = "Not acceptable as planned"  # a rejection says why
        return await self.handle.execute_update(
            ProcessWorkflow.decide_approval,
            DecideApprovalInput(actor=actor, approval_id=approval_id, decision=decision, comment=comment),
        )  # type: ignore[arg-type]

    async def snapshot(self) -> RecordSnapshot:
        return await self.handle.query(ProcessWorkflow.snapshot, SnapshotQuery())


async def new_record(
    client: Client,
    engine: Engine,
    queue: str,
    fixture: str = "mini.yaml",
    actor: Actor = ALICE,
    **fields: Any,
) -> Record:
    # mini.yaml's impact and urgency by default; pass None to leave a field out.
    values = {k: v for k, v in {"impact": "2", "urgency": "2", **fields}.items() if v is not None}
    snap = await launch_record(
        client,
        engine,
        task_queue=queue,
        pinned=pinned_fixture(fixture),
        record_id=uuid.uuid4().hex[:20],
        title="Test record",
        fields=values,
        actor=actor,
    )
    return Record(client, snap)


def created_in_memory(
    fixture: str, now: datetime, *, title: str = "t", fields: dict[str, Any] | None = None
) -> tuple[ProcessEngine, Outcome]:
    """A record of a fixture definition created by the pure engine (no Temporal), as alice."""
    return ProcessEngine.create(
        StartProcessInput(
            record_id=uuid.uuid4().hex[:20],
            number=f"MEM-{uuid.uuid4().hex[:8]}",
            definition=pinned_fixture(fixture),
            actor=ALICE,
            title=title,
            fields=fields or {},
        ),
        now,
    )


def audit(engine: Engine, record_id: str) -> list[AuditRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditRow).where(AuditRow.record_id == record_id).order_by(col(AuditRow.seq))
            ).all()
        )


HISTORIES = Path(__file__).parent / "fixtures" / "histories"


async def maybe_record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With ITILFLOW_RECORD_HISTORY=1, keep this run's history for the replay test (tests/fixtures/histories)."""
    if os.environ.get("ITILFLOW_RECORD_HISTORY"):
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text((await handle.fetch_history()).to_json())
