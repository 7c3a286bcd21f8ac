"""How an action reaches a record: a Temporal Update on the record's workflow.

The Update returns only after the workflow has recorded the change in the read model, so the caller
can read its own write; a refusal comes back as the Update's failure (`refusals`). The request's
database transaction ends before the wait.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from anyio.to_thread import run_sync
from sqlmodel import Session
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.services.lookup import RecordKey
from api.services.refusals import closed, update_problem
from client.transient import is_transient, retry_transient
from core.db import write_scope
from core.store import seal_committed
from workflows.contracts import RecordSnapshot
from workflows.process import ProcessWorkflow


def release(session: Session) -> None:
    """End the request's transaction before awaiting Temporal.

    An Update can take a while under load; holding a pooled connection meanwhile exhausts the pool
    and then blocks the event loop (every other request, and the worker in `itilflow dev`).
    """
    session.commit()


async def send_update(
    session: Session, client: Client, row: RecordKey, update: Any, arg: Any, *, update_id: str | None
) -> RecordSnapshot:
    """Run `update` (a `ProcessWorkflow` update handler) with `arg` on the record's workflow.

    `update_id` (from the request's Idempotency-Key) lets Temporal answer a retry without acting twice.
    Without one, the Update still gets a fixed id here, so that the service's own retry of a call
    that Temporal did not answer (`retry_transient`) cannot act twice either.
    """
    if row.final:
        raise closed(row)
    release(session)
    handle = client.get_workflow_handle_for(ProcessWorkflow.run, row.id)
    fixed_id = update_id or str(uuid.uuid4())
    try:
        snapshot: RecordSnapshot = await retry_transient(
            lambda: handle.execute_update(update, arg, id=fixed_id)
        )
    except WorkflowUpdateFailedError as exc:
        raise update_problem(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # completed between our read and the update
            raise closed(row) from None
        if is_transient(exc):
            await _resync(handle)
        raise
    except RPCTimeoutOrCancelledError:
        await _resync(handle)
        raise
    if snapshot.final:
        # Temporal acknowledged the closing action, so it is committed: seal the record's last audit
        # rows (no later workflow task of the record will re-assert them). A short write, in a thread.
        await run_sync(partial(_seal, session.get_bind(), snapshot.id, snapshot.seq))
    return snapshot


async def _resync(handle: WorkflowHandle[Any, Any]) -> None:
    """Temporal did not answer the action: its workflow task may have written rows and then been
    discarded, and if the caller never retries, nothing replaces them. Ask the workflow to write its
    committed state again (ProcessWorkflow.resync); a signal is durable, so it runs once Temporal is
    back. Best effort: the caller's retry with the same Idempotency-Key replaces them too."""
    with contextlib.suppress(Exception):
        await handle.signal(ProcessWorkflow.resync, rpc_timeout=timedelta(seconds=2))


def _seal(engine: Any, record_id: str, seq: int) -> None:
    with write_scope(engine) as session:
        seal_committed(session, record_id, seq)
