"""Starting records: used by the API, by `create_record` effects (activities/links.py) and by the demo
loader (devenv/seed.py).

A record id is the Temporal workflow id. Starting is idempotent: the same record id twice gives the
first record (the workflow id is unique), and its number is allocated once per record id.
"""

from __future__ import annotations

import uuid
from typing import Any

from anyio.to_thread import run_sync
from sqlalchemy import Engine, Table, bindparam
from sqlalchemy import select as core_select
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from client import references
from client.transient import retry_transient
from core.db import session_scope
from core.store import allocate_number, utcnow
from core.tables import DefinitionRow, RecordRow
from definitions.loader import PinnedDefinition, load_text, pin, share_pinned, shared_pinned
from workflows.contracts import (
    Actor,
    RecordSnapshot,
    SnapshotQuery,
    StartProcessInput,
)
from workflows.engine import ProcessEngine
from workflows.engine import references as engine_references
from workflows.process import ProcessWorkflow

ID_NAMESPACE = uuid.UUID("6f1c6a52-2a7e-4d8e-9d3b-5f0c3c7a1e10")


class DefinitionNotFound(LookupError):
    pass


def _parse(source: str, version: int) -> PinnedDefinition:
    result = load_text(source)
    if result.definition is None:  # stored sources were validated before they were stored
        raise ValueError("stored definition no longer parses: " + "; ".join(map(str, result.issues)))
    return pin(result.definition, version)


_DEFINITIONS: Table = DefinitionRow.__table__  # type: ignore[attr-defined]
# Every start runs one of these: the version's identity, not its source (tens of kB for a process).
_HEAD = core_select(_DEFINITIONS.c.id, _DEFINITIONS.c.version, _DEFINITIONS.c.hash)
_NEWEST = (
    _HEAD.where(_DEFINITIONS.c.key == bindparam("key"), _DEFINITIONS.c.status == "published")
    .order_by(_DEFINITIONS.c.version.desc())
    .limit(1)
)
_VERSION = _HEAD.where(_DEFINITIONS.c.key == bindparam("key"), _DEFINITIONS.c.version == bindparam("version"))
_SOURCE = core_select(_DEFINITIONS.c.source).where(_DEFINITIONS.c.id == bindparam("id"))


def pinned_definition(engine: Engine, key: str, version: int | None = None) -> PinnedDefinition:
    """The newest published version (or a given one), parsed once per process."""
    with session_scope(engine) as session:
        if version is None:
            row = session.execute(_NEWEST, {"key": key}).first()
        else:
            row = session.execute(_VERSION, {"key": key, "version": version}).first()
        if row is None:
            raise DefinitionNotFound(f"no published definition '{key}'")
        # A stored version never changes (a change is a new version): its parse is shared by hash,
        # with the decoded definitions that workflows receive (definitions.loader).
        hit = shared_pinned(key, row.version, row.hash)
        if hit is not None:
            return hit
        source = session.execute(_SOURCE, {"id": row.id}).scalar_one()
    pinned = _parse(source, row.version)
    share_pinned(pinned)
    return shared_pinned(key, row.version, row.hash) or pinned


def record_id_for(key: str | None) -> str:
    """A new record id; derived from an idempotency key when there is one, so retries converge."""
    if key:
        return uuid.uuid5(ID_NAMESPACE, key).hex[:20]
    return uuid.uuid4().hex[:20]


async def launch_record(
    client: Client,
    engine: Engine,
    *,
    task_queue: str,
    pinned: PinnedDefinition,
    record_id: str,
    title: str,
    fields: dict[str, Any],
    actor: Actor,
    parent_id: str | None = None,
) -> RecordSnapshot:
    """Start the record's workflow and wait until its first state is written (read-your-writes).

    Raises `workflows.engine.Refusal` (and writes nothing, not even a number) when the engine would
    refuse the record: the same pure check the workflow runs, done first so every caller gets a
    precise 403/422 instead of a workflow that fails on its first task.
    """
    existing = _existing_snapshot(engine, record_id)
    if existing is not None:
        return existing  # a retried create whose record already exists (even if closed since)
    inp = StartProcessInput(
        record_id=record_id,
        number="PRECHECK",
        definition=pinned,
        actor=actor,
        title=title,
        fields=fields,
        parent_id=parent_id,
    )
    checked, _ = ProcessEngine.create(inp, utcnow())  # raises Refusal
    # The checked reference fields (a standard change's template) too: the workflow checks them again.
    wanted = checked.references_in(fields)
    if wanted:
        lookup = engine_references.lookup(pinned.definition, wanted)
        found = await run_sync(references.resolve_references, engine, lookup)
        checked.check_references(wanted, found, actor.language)
    # In a thread: a SQLite write may wait for another process's, and must not stall the event loop.
    # anyio's pool (40 threads, as FastAPI's): asyncio's default has cores + 4, 6 here.
    number = await run_sync(_allocate, engine, record_id, pinned.definition.number_prefix)
    inp = inp.model_copy(update={"number": number})
    # Update-with-start: the start and the `ready` update travel together and the update is handled
    # in the first workflow task, one round trip instead of two. Sent again when Temporal did not
    # answer: the start reuses the workflow if the first attempt made it, and `ready` only reads.
    # (An operation object serves one call, so each attempt gets its own.)
    try:
        snapshot: RecordSnapshot = await retry_transient(
            lambda: client.execute_update_with_start_workflow(
                ProcessWorkflow.ready,
                SnapshotQuery(actor=actor),
                start_workflow_operation=_start_operation(inp, record_id, task_queue),
            )
        )
    except (WorkflowAlreadyStartedError, RPCError):
        # The workflow ran and completed between our read and the start: the read model has it.
        existing = _existing_snapshot(engine, record_id)
        if existing is None:
            raise
        return existing
    return snapshot


def _start_operation(
    inp: StartProcessInput, record_id: str, task_queue: str
) -> WithStartWorkflowOperation[Any, Any]:
    return WithStartWorkflowOperation(
        ProcessWorkflow.run,
        inp,
        id=record_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


def _allocate(engine: Engine, record_id: str, prefix: str) -> str:
    with session_scope(engine) as session:
        return allocate_number(session, record_id=record_id, prefix=prefix)


def _existing_snapshot(engine: Engine, record_id: str) -> RecordSnapshot | None:
    """The stored snapshot of a record that reached a final state; running ones answer themselves."""
    with session_scope(engine) as session:
        row = session.get(RecordRow, record_id)
        if row is None or not row.final:
            return None
        return RecordSnapshot.model_validate(row.snapshot)
