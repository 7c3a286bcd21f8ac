"""Durability on a real Temporal server: continue-as-new, deterministic replay, a worker killed with -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, Table
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from activities.records import _approval_upsert, _audit_insert, _record_upsert
from core.converter import data_converter
from core.db import cacheable, upsert_insert
from core.tables import NotificationRow
from tests.conftest import pinned_fixture
from tests.engine_helpers import (
    ALICE,
    BOB,
    BOSS,
    CAROL,
    DAVE,
    Record,
    audit,
    maybe_record_history,
    new_record,
)
from tests.paths import FIXTURES
from tests.paths import ROOT as PROJECT_ROOT
from worker.registry import WORKFLOWS, sandbox_runner
from workflows.contracts import (
    Actor,
    FireTransitionInput,
    SnapshotQuery,
    StartProcessInput,
)
from workflows.process import ProcessWorkflow

ROOT = PROJECT_ROOT


async def _start_directly(client: Client, task_queue: str, title: str, **extra: Any) -> Record:
    """A mini.yaml record started with a StartProcessInput built here (no code_version unless given),
    not through launch_record."""
    inp = StartProcessInput(
        record_id=uuid.uuid4().hex[:20],
        number=f"MIN-{uuid.uuid4().hex[:8]}",
        definition=pinned_fixture("mini.yaml"),
        actor=ALICE,
        title=title,
        fields={"impact": "2", "urgency": "2"},
        **extra,
    )
    handle = await client.start_workflow(ProcessWorkflow.run, inp, id=inp.record_id, task_queue=task_queue)
    return Record(client, await handle.execute_update(ProcessWorkflow.ready, SnapshotQuery()))


async def test_continue_as_new_preserves_everything(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await _start_directly(temporal_client, task_queue, "long-running", history_limit=40)
    first_run = (await record.handle.describe()).run_id
    await record.fire(BOB, "accept", assignee="bob")
    # An update sent with an explicit id before continue-as-new ...
    wait_once = FireTransitionInput(actor=BOB, trigger="wait")
    await record.handle.execute_update(ProcessWorkflow.fire_transition, wait_once, id="request-1")
    await record.fire(BOB, "resume")
    for _ in range(6):
        await record.fire(BOB, "wait")
        await record.fire(BOB, "resume")
    await record.fire(BOB, "submit", plan="p", backout_plan="b", risk=1)
    before = await record.snapshot()
    desc = await temporal_client.get_workflow_handle(record.id).describe()
    assert desc.run_id != first_run, "the run should have continued as new"
    # ... is still recognised afterwards: the retry changes nothing.
    again = await record.handle.execute_update(ProcessWorkflow.fire_transition, wait_once, id="request-1")
    assert again.seq == before.seq and again.state == "approval"
    after = await record.snapshot()
    assert after.model_dump(exclude={"slas"}) == before.model_dump(exclude={"slas"})
    assert after.slas[0].state == "running" and after.slas[0].due_at == before.slas[0].due_at
    # The carried approval still takes decisions, and the record completes in the new run.
    board = after.approvals[0].id
    await record.decide(CAROL, board)
    snap = await record.decide(DAVE, board)
    assert snap.approvals[1].state == "pending"
    seqs = [a.seq for a in audit(db_engine, record.id)]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_replay_of_recorded_histories_is_deterministic(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    record = await new_record(temporal_client, db_engine, task_queue)
    await record.fire(BOB, "accept", assignee="bob")
    await record.fire(BOB, "submit", plan="p", backout_plan="b", risk=1)
    task = (await record.snapshot()).approvals[0]
    # Quorum 2: rejections by all but one eligible approver put it out of reach.
    for name in task.eligible[:-1]:
        await record.decide(Actor(username=name, roles=["approver"], groups=["cab"]), task.id, "reject")
    final = await record.handle.result()
    assert final.state == "rejected"
    replayer = Replayer(
        workflows=list(WORKFLOWS), workflow_runner=sandbox_runner(), data_converter=data_converter
    )
    history = await record.handle.fetch_history()
    await replayer.replay_workflow(history)  # raises on any non-determinism
    # Histories recorded from earlier versions of the code must replay too: before any patch
    # (mini_rejected, mini_sla_breach: the old paths), with patch markers (*_patched; mini_approved_patched
    # also has named-approvers-without-directory's), and started on 0.5's code generation 1, without
    # markers (*_generation_1); mini_continued_* end in continue-as-new; mini_protected_fields_changed
    # (0.5.x code) has people changing the fields that name them, which handlers now re-check only
    # in runs with the protected-fields marker.
    recorded = sorted((FIXTURES / "histories").glob("*.json"))
    for path in recorded:
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
    await maybe_record_history(record.handle, "mini_rejected")


def _patches(history: WorkflowHistory) -> list[str]:
    """The ids of the patch markers in a history (a deprecated one with "(deprecated)")."""
    ids = []
    for event in history.events:
        marker = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and marker.marker_name == "core_patch":
            data = json.loads(marker.details["patch-data"].payloads[0].data)
            ids.append(data["id"] + (" (deprecated)" if data["deprecated"] else ""))
    return ids


def _upserts(history: WorkflowHistory) -> int:
    return sum(
        event.HasField("upsert_workflow_search_attributes_event_attributes") for event in history.events
    )


async def _through_both_cab_levels(record: Record) -> None:
    await record.fire(BOB, "accept", assignee="bob")
    snap = await record.fire(BOB, "submit", plan="p", backout_plan="b", risk=1)
    await record.decide(CAROL, snap.approvals[0].id)
    snap = await record.decide(DAVE, snap.approvals[0].id)
    snap = await record.decide(BOSS, snap.approvals[1].id)  # the manager level names boss alone
    assert snap.state == "in_progress"


async def test_code_generations_are_retired_and_runs_started_on_one_keep_their_path(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    """A record started now asks `workflow.patched()` for the changes runs from before them still replay
    the old way (their markers and TemporalChangeVersion upserts), and records the deprecated marker of
    the one retired: named approvers are taken without the directory. A run started by version 0.5
    (code_version 1) keeps taking every change without markers. Both behave the same and replay."""
    new = await new_record(temporal_client, db_engine, task_queue)
    await _through_both_cab_levels(new)
    on_0_5 = await _start_directly(temporal_client, task_queue, "started by 0.5", code_version=1)
    await _through_both_cab_levels(on_0_5)

    new_history = await new.handle.fetch_history()
    history_0_5 = await on_0_5.handle.fetch_history()
    assert _patches(new_history) == [
        "sla-alarms",
        "sla-agreements",  # a new record with a resolution clock asks for its agreement (issue 21)
        "notifications-in-persist",
        "protected-fields",
        "alarm-lead-10m",  # its SLA alarm armed ten minutes ahead (issue 19)
        "named-approvers-without-directory (deprecated)",
    ]
    assert _upserts(new_history) == 6  # Temporal's Core upserts TemporalChangeVersion for each marker
    # Code running now records the deprecated marker in any run, and protected-fields at the first
    # person's action of any run (0.5's took no such rule); the others stay as the run started.
    assert _patches(history_0_5) == [
        "sla-agreements",  # asked with a marker by any run started now, 0.5's generation flag or not
        "protected-fields",
        "alarm-lead-10m",
        "named-approvers-without-directory (deprecated)",
    ]
    # The same behaviour: both wrote their state and audit rows before answering (the outbox order),
    # and asked the directory only for the CAB group, not for boss.
    for record in (new, on_0_5):
        assert (await record.snapshot()).state == "in_progress"
        assert [a.action for a in audit(db_engine, record.id)][-1] == "transition"
    for history in (new_history, history_0_5):
        activities = [
            json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"]
            for e in history.events
            if e.HasField("marker_recorded_event_attributes")
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ]
        assert activities.count("resolve_approvers") == 1, activities
    replayer = Replayer(
        workflows=list(WORKFLOWS), workflow_runner=sandbox_runner(), data_converter=data_converter
    )
    for history in (new_history, history_0_5):
        await replayer.replay_workflow(history)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_persist_statements_are_compiled_once(dialect: str) -> None:
    """SQLAlchemy does not cache dialect INSERTs; core.db.cacheable turns them into statements it does."""
    for build in (_record_upsert, _audit_insert, _approval_upsert):
        assert build(dialect)._generate_cache_key() is not None, build.__name__
    # A column left out gets its constant default; one whose default is computed cannot be left out.
    stmt = upsert_insert(dialect)(NotificationRow.__table__).on_conflict_do_nothing(index_elements=["key"])
    keys = ["key", "record_id", "template", "channel", "recipient", "created_at"]
    assert cacheable(stmt, dialect, keys).compile().binds["attempts"].value == 0
    stamped = Table(
        "stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime, default=datetime.now),
    )
    with pytest.raises(ValueError, match="stamped.at needs a value"):
        cacheable(upsert_insert(dialect)(stamped), dialect, ["id"])


def start_worker_process(address: str, queue: str, url: str, log: Path) -> subprocess.Popen[bytes]:
    # Output goes to a file: a pipe nobody drains would block the worker once it fills.
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process", address, queue, url],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(300):
        if "worker ready" in log.read_text(errors="replace").split("--- start", 1)[-1]:
            return proc
        if proc.poll() is not None:
            break
        import time

        time.sleep(0.1)
    raise AssertionError(f"worker did not start: {log.read_text(errors='replace')[-2000:]}")


async def test_worker_killed_mid_lifecycle(
    temporal_client: Client,
    temporal_address: str,
    db_engine: Engine,
    database_url: str,
    task_queue: str,
    tmp_path: Path,
) -> None:
    first = start_worker_process(temporal_address, task_queue, database_url, tmp_path / "worker1.log")
    try:
        record = await new_record(temporal_client, db_engine, task_queue, impact="1", urgency="1")
        await record.fire(BOB, "accept", assignee="bob")
        # The SLA's 75 % threshold is 3 s away. Kill the worker now, with no chance to clean up.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        # An update sent while no worker runs is delivered to the next one.
        pending = asyncio.ensure_future(record.fire(BOB, "resolve", resolution="fixed after crash"))
        await asyncio.sleep(1)
        second = start_worker_process(temporal_address, task_queue, database_url, tmp_path / "worker2.log")
        try:
            try:
                resolved = await asyncio.wait_for(pending, timeout=60)
            except TimeoutError:
                raise AssertionError((tmp_path / "worker2.log").read_text()[-3000:]) from None
            assert resolved.state == "resolved"
            snap = await record.fire(ALICE, "confirm")
            assert snap.state == "closed"
            await asyncio.wait_for(record.handle.result(), timeout=30)
        finally:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    rows = audit(db_engine, record.id)
    seqs = [r.seq for r in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "no missing or duplicated audit rows"
    moves = [(r.from_state, r.to_state) for r in rows if r.action == "transition"]
    assert moves == [("new", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed")]
    # The SLA stopped when resolved; had the resolve come after 3 s, the warning fires exactly once.
    thresholds = [r.details["at_percent"] for r in rows if r.action == "sla_threshold"]
    assert len(thresholds) == len(set(thresholds))
