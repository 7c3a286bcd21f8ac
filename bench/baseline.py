"""The bare baseline bench/engine.py compares the engine against: the least a workflow can do for the
same lifecycle.

A start, a `ready` update and five step updates (as many as the engine's lifecycle: accept, submit,
approve, resolve, close), each step one activity that INSERTs a row into a SQLite file, in its own
transaction, as `persist_record` does once per step. It runs on its own worker with the knobs of
worker/registry.py's `build_worker` (workflow runner, activity thread pool, concurrency), so that
the difference between the two is the engine's own cost.

Every import sits in `imports_passed_through`, which matters only when this module runs in Temporal's
workflow sandbox (the workers run workflows as worker/registry.py's `workflow_runner` does, outside
it): the sandbox would re-import the module for each run.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import asyncio
    import concurrent.futures
    import functools
    import json
    import uuid
    from dataclasses import dataclass, field
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.common import RetryPolicy
    from temporalio.worker import Worker

    from bench.common import timed
    from worker.registry import workflow_runner

BASELINE_STEPS = 5  # updates after the start, as in the engine's lifecycle


@functools.cache
def baseline_table() -> Table:
    """The baseline's one table; built on first use, so that importing this module stays cheap."""
    return Table(
        "baseline_steps",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("record_id", String(64), nullable=False, index=True),
        Column("step", Integer, nullable=False),
        Column("name", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("payload", Text, nullable=False),
    )


@dataclass
class BaselineStep:
    record_id: str
    step: int
    name: str
    fields: dict[str, str] = field(default_factory=dict)


class BaselineActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="baseline_write")
    def write(self, inp: BaselineStep) -> None:
        # One INSERT per step, in its own transaction: what persist_record does once per step too.
        with self.engine.begin() as conn:
            conn.execute(
                baseline_table()
                .insert()
                .values(
                    record_id=inp.record_id,
                    step=inp.step,
                    name=inp.name,
                    at=datetime.now(UTC),
                    payload=json.dumps(inp.fields),
                )
            )


@workflow.defn(name="BenchBaselineWorkflow")
class BaselineWorkflow:
    @workflow.init
    def __init__(self, record_id: str) -> None:
        self._record_id = record_id
        self._lock = asyncio.Lock()
        self._ready = False
        self._steps = 0
        self._fields: dict[str, str] = {}

    async def _write(self, name: str) -> None:
        await workflow.execute_activity(
            "baseline_write",
            BaselineStep(self._record_id, self._steps, name, dict(self._fields)),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
            ),
        )

    @workflow.run
    async def run(self, record_id: str) -> int:
        async with self._lock:
            await self._write("start")
            self._ready = True
        await workflow.wait_condition(lambda: self._steps >= BASELINE_STEPS)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._steps

    @workflow.update
    async def ready(self) -> int:
        await workflow.wait_condition(lambda: self._ready)
        return self._steps

    @workflow.update
    async def step(self, name: str) -> int:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._steps += 1
            self._fields[name] = name
            await self._write(name)
            return self._steps


def baseline_worker(client: Client, engine: Engine, task_queue: str) -> Worker:
    """The baseline's worker, with its table created. The same knobs as worker/registry.py's
    build_worker: workflow runner, thread pool, concurrency."""
    baseline_table().metadata.create_all(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BaselineWorkflow],
        activities=[BaselineActivities(engine).write],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=64),
        max_concurrent_activities=64,
        workflow_runner=workflow_runner(),
    )


async def baseline_lifecycle(client: Client, task_queue: str, updates_ms: list[float]) -> None:
    """One baseline lifecycle, driven as bench/engine.py drives the engine's: the five steps' update
    latencies go to `updates_ms`."""
    record_id = f"baseline-{uuid.uuid4().hex[:20]}"
    handle = await client.start_workflow(BaselineWorkflow.run, record_id, id=record_id, task_queue=task_queue)
    await handle.execute_update(BaselineWorkflow.ready)
    for name in ("accept", "submit", "approve", "resolve", "close"):
        await timed(updates_ms, handle.execute_update(BaselineWorkflow.step, name))
