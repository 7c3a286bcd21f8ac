"""One record as its caller sees it, and its audit trail.

A running record is asked live (a workflow query), so `available_transitions` are computed for the
caller; a closed record, or one whose workflow does not answer, comes from the read model.
"""

from __future__ import annotations

from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from api.auth import Principal
from api.schemas import HistoryEntry
from api.services.lookup import find_record, find_record_key
from api.services.updates import release
from core.tables import AuditRow, RecordRow
from workflows.contracts import RecordSnapshot, SnapshotQuery
from workflows.process import ProcessWorkflow


def stored_snapshot(row: RecordRow) -> RecordSnapshot:
    """The read model's copy: what the record was at its last change, with no actions offered."""
    snap = RecordSnapshot.model_validate(row.snapshot)
    return snap.model_copy(update={"available_transitions": []})


async def get_record(*, session: Session, client: Client, ref: str, user: Principal) -> RecordSnapshot:
    """The record with the transitions the caller may fire now, which only its workflow knows (they
    depend on the caller's roles and the record's fields); the read model when it cannot answer."""
    row = find_record(session, ref=ref, user=user)
    if row.final:
        return stored_snapshot(row)
    handle = client.get_workflow_handle_for(ProcessWorkflow.run, row.id)
    release(session)
    try:
        return await handle.query(ProcessWorkflow.snapshot, SnapshotQuery(actor=user.actor()))
    except (RPCError, WorkflowQueryFailedError):
        # The workflow is gone (closed and past retention) or not answering: the read model still is.
        return stored_snapshot(row)


def history(*, session: Session, user: Principal, ref: str) -> list[HistoryEntry]:
    """The append-only audit trail, oldest first."""
    row = find_record_key(session, ref=ref, user=user, reading=True)  # auditors read it too
    rows = session.exec(
        select(AuditRow).where(AuditRow.record_id == row.id).order_by(col(AuditRow.seq))
    ).all()
    return [
        HistoryEntry(
            seq=a.seq,
            at=a.at,
            actor=a.actor,
            action=a.action,
            from_state=a.from_state,
            to_state=a.to_state,
            comment=a.comment,
            details=a.details or {},
        )
        for a in rows
    ]
