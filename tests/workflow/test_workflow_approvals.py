"""Approval steps on a real Temporal server: quorum, all-of, sequential levels, separation of duties."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from core.db import session_scope
from core.store import upsert_user
from core.tables import UserRow
from tests.engine_helpers import ALICE, BOB, BOSS, CAROL, DAVE, ERIN, Record, audit, new_record
from workflows.contracts import Actor


async def to_approval(record: Record, **extra: object) -> str:
    await record.fire(BOB, "accept", assignee="bob")
    snap = await record.fire(BOB, "submit", plan="swap disk", backout_plan="swap back", risk=2, **extra)
    assert snap.state == "approval"
    task = snap.approvals[-1]
    assert task.state == "pending" and task.level_name == "board"
    return task.id


def cab_member(name: str) -> Actor:
    return Actor(username=name, roles=["approver"], groups=["cab"])


async def refused(coro: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await coro  # type: ignore[misc]
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def test_quorum_then_all_of_level(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue)
    board = await to_approval(record)
    snap = await record.snapshot()
    # Everyone in cab (other tests may have added members to the shared directory), quorum 2.
    assert {"carol", "dave", "erin"} <= set(snap.approvals[0].eligible) and snap.approvals[0].needed == 2
    snap = await record.decide(CAROL, board)
    assert snap.state == "approval" and snap.approvals[0].state == "pending"  # 1 of 2
    err = await refused(record.decide(CAROL, board))
    assert err.type == "AlreadyDecided"
    snap = await record.decide(DAVE, board, "approve")
    # Quorum reached: level 1 approved, level 2 (all of: boss) opened.
    assert [t.state for t in snap.approvals] == ["approved", "pending"]
    manager = snap.approvals[1]
    assert manager.level_name == "manager" and manager.eligible == ["boss"] and manager.needed == 1
    err = await refused(record.decide(ERIN, manager.id))
    assert err.type == "NotAllowed" and "not an approver" in err.message
    snap = await record.decide(BOSS, manager.id)
    assert snap.state == "in_progress"  # on_approved fired
    actions = [a.action for a in audit(db_engine, record.id)]
    assert actions.count("approval_approved") == 2
    assert actions.count("approval_decision") == 3


async def test_quorum_becomes_impossible_rejects(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue)
    board = await to_approval(record)
    eligible = (await record.snapshot()).approvals[0].eligible
    # Quorum 2: the level stays open while two approvals are still possible ...
    for name in eligible[:-2]:
        snap = await record.decide(cab_member(name), board, "reject")
        assert snap.approvals[0].state == "pending"
    # ... and is rejected by the rejection that leaves only one possible approval.
    snap = await record.decide(cab_member(eligible[-2]), board, "reject")
    assert snap.approvals[0].state == "rejected"
    assert snap.state == "rejected" and snap.final


async def test_separation_of_duties(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    # frank requests the record AND sits on the CAB; gina built it and sits on the CAB too.
    with session_scope(db_engine) as session:
        upsert_user(session, username="frank", roles=["requester", "approver"], groups=["cab"])
        upsert_user(session, username="gina", roles=["approver"], groups=["cab"])
    # Active again if an earlier run against the same database left them retired (see finally).
    with session_scope(db_engine) as session:
        for name in ("frank", "gina"):
            user = session.get(UserRow, name)
            assert user is not None
            user.active = True
            session.add(user)
    frank = Actor(username="frank", roles=["requester", "approver"], groups=["cab"])
    try:
        await _separation_of_duties(temporal_client, db_engine, task_queue, frank)
    finally:
        # Leave the shared cab as other tests expect it.
        with session_scope(db_engine) as session:
            for name in ("frank", "gina"):
                user = session.get(UserRow, name)
                assert user is not None
                user.active = False
                session.add(user)


async def _separation_of_duties(
    temporal_client: Client, db_engine: Engine, task_queue: str, frank: Actor
) -> None:
    gina = Actor(username="gina", roles=["approver"], groups=["cab"])
    record = await new_record(temporal_client, db_engine, task_queue, actor=frank)
    board = await to_approval(record, builder="gina")
    snap = await record.snapshot()
    task = snap.approvals[0]
    assert "frank" not in task.eligible and "gina" not in task.eligible
    assert task.excluded == {"frank": "requester", "gina": "field:builder"}
    err = await refused(record.decide(frank, board))
    assert err.type == "SeparationOfDuties"
    assert "requester" in err.message and snap.number in err.message
    err = await refused(record.decide(gina, board))
    assert err.type == "SeparationOfDuties" and "builder" in err.message
    after = await record.snapshot()
    assert after.seq == snap.seq and after.approvals[0].decisions == []  # refusals wrote nothing


async def test_all_of_policy_needs_everyone(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue)
    board = await to_approval(record)
    await record.decide(CAROL, board)
    snap = await record.decide(DAVE, board)
    manager = snap.approvals[1].id
    assert snap.approvals[1].policy == "all"
    err = await refused(record.decide(ERIN, manager))
    assert err.type == "NotAllowed"
    err = await refused(record.decide(ALICE, manager))
    assert err.type == "SeparationOfDuties"  # the requester is excluded at every level
    snap = await record.decide(BOSS, manager, "reject")
    assert snap.state == "rejected"
