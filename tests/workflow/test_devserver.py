"""The locally built Temporal CLI dev server: version and persistence across restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from devenv.temporal_cli import (
    TEMPORAL_CLI_MODULE_VERSION,
    find_temporal_cli,
    temporal_cli_module_version,
    temporal_cli_version,
)
from devenv.temporal_server import DevServer


@workflow.defn
class WaitForSignal:
    """Runs until signalled, then returns what it was sent."""

    def __init__(self) -> None:
        self._value: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._value is not None)
        assert self._value is not None
        return self._value

    @workflow.signal
    def finish(self, value: str) -> None:
        self._value = value


@pytest.fixture(scope="module")
def cli() -> Path:
    found = find_temporal_cli()
    if found is None:
        pytest.fail("Temporal CLI not found; run 'itilflow server install'")
    return found


def test_cli_is_pinned_version(cli: Path) -> None:
    assert temporal_cli_module_version(cli) == TEMPORAL_CLI_MODULE_VERSION
    version = temporal_cli_version(cli)
    assert version.startswith(f"temporal version {TEMPORAL_CLI_MODULE_VERSION.removeprefix('v')} "), (
        f"{version!r}: rebuild with 'itilflow server install --force' to stamp the version"
    )
    assert "(Server 1.29." in version


def worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[WaitForSignal],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


async def test_db_file_keeps_workflows_across_restart(cli: Path, tmp_path: Path, task_queue: str) -> None:
    db_file = tmp_path / "temporal.db"
    workflow_id = f"persist-{uuid.uuid4().hex}"

    with DevServer(tmp_path, headless=True, db_file=db_file, cli=cli) as server:
        client = await Client.connect(server.address)
        async with worker(client, task_queue):
            handle = await client.start_workflow(
                WaitForSignal.run,
                id=workflow_id,
                task_queue=task_queue,
                execution_timeout=timedelta(minutes=10),
            )
            await _wait_first_task_done(client, workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert not server.running

    with DevServer(tmp_path, headless=True, db_file=db_file, cli=cli) as server:
        client = await Client.connect(server.address)
        handle = client.get_workflow_handle(workflow_id)
        description = await handle.describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert description.task_queue == task_queue
        async with worker(client, task_queue):
            await handle.signal(WaitForSignal.finish, "done")
            assert await handle.result() == "done"


def test_file_db_pragmas_on_the_command_line(cli: Path, tmp_path: Path) -> None:
    in_memory = DevServer(tmp_path, headless=True, cli=cli).command(cli)
    assert "--sqlite-pragma" not in in_memory
    on_file = DevServer(tmp_path, headless=True, db_file=tmp_path / "t.db", cli=cli).command(cli)
    pragmas = [on_file[i + 1] for i, arg in enumerate(on_file) if arg == "--sqlite-pragma"]
    assert pragmas == ["journal_mode=wal", "synchronous=normal"]
    plain = DevServer(tmp_path, headless=True, db_file=tmp_path / "t.db", sqlite_pragmas={}, cli=cli)
    assert "--sqlite-pragma" not in plain.command(cli)


async def test_killed_server_keeps_what_it_acknowledged(cli: Path, tmp_path: Path, task_queue: str) -> None:
    """The write-ahead log with synchronous=normal loses nothing when the server process is killed:
    a workflow start and a signal acknowledged before a SIGKILL are there after the restart."""
    db_file = tmp_path / "temporal.db"
    workflow_id = f"killed-{uuid.uuid4().hex}"
    with DevServer(tmp_path, headless=True, db_file=db_file, cli=cli) as server:
        client = await Client.connect(server.address)
        handle = await client.start_workflow(
            WaitForSignal.run, id=workflow_id, task_queue=task_queue, execution_timeout=timedelta(minutes=10)
        )
        await handle.signal(WaitForSignal.finish, "sent before the kill")
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # no graceful stop: what the server acknowledged must be on disk
        for _ in range(100):
            if not server.running:
                break
            await asyncio.sleep(0.05)
        assert not server.running
    with sqlite3.connect(db_file) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with DevServer(tmp_path, headless=True, db_file=db_file, cli=cli) as server:
        client = await Client.connect(server.address)
        async with worker(client, task_queue):
            assert await client.get_workflow_handle(workflow_id).result() == "sent before the kill"


async def _wait_first_task_done(client: Client, workflow_id: str) -> None:
    """Wait until the worker has completed the first workflow task (so history holds it)."""
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(100):
        async for event in handle.fetch_history_events():
            if event.HasField("workflow_task_completed_event_attributes"):
                return
        await asyncio.sleep(0.1)
    pytest.fail("workflow task was not completed")


async def test_search_attributes_given_at_start_work_at_once_with_the_cache(
    cli: Path, tmp_path: Path
) -> None:
    """The server's search-attribute cache is not refreshed on every read (DEFAULT_DYNAMIC_CONFIG):
    attributes given with `--search-attribute` exist before the first request, so a workflow can be
    started with one, and found by it, right after the server starts (and after a restart)."""
    probe = SearchAttributeKey.for_keyword("ItilflowProbe")
    db_file = tmp_path / "temporal.db"
    for attempt in ("first start", "restart"):
        server = DevServer(
            tmp_path, headless=True, db_file=db_file, search_attributes={probe.name: "Keyword"}
        )
        assert "system.forceSearchAttributesCacheRefreshOnRead=false" in server.command(cli)
        with server:
            client = await Client.connect(server.address)
            handle = await client.start_workflow(
                WaitForSignal.run,
                id=f"sa-{uuid.uuid4().hex}",
                task_queue="no-worker",
                search_attributes=TypedSearchAttributes([SearchAttributePair(probe, attempt)]),
            )
            described = await handle.describe()
            assert described.typed_search_attributes.get(probe) == attempt
            await handle.terminate()
