"""Writing the read model and the audit trail: one transaction per change, idempotent by sequence.

The workflow calls this after every change with the new snapshot and the audit events since the
last call. Audit rows are unique on (record id, seq) and inserted with ON CONFLICT DO NOTHING, and the
record row only moves forward (a stale or repeated write with a lower seq changes nothing), so a
retried activity never writes twice and never goes back in time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Engine, delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col
from temporalio import activity

from core.db import insert_ignore, session_scope
from core.tables import ApprovalApproverRow, ApprovalRow, AuditRow, RecordRow
from workflows.contracts import PersistRecordInput, RecordSnapshot


def _record_values(s: RecordSnapshot) -> dict[str, Any]:
    return {
        "number": s.number,
        "definition_key": s.definition,
        "definition_version": s.definition_version,
        "title": s.title,
        "state": s.state,
        "state_category": s.state_category,
        "priority": s.priority,
        "requester": s.requester,
        "assignee": s.assignee,
        "assignment_group": s.assignment_group,
        "final": s.final,
        "breached": any(v.state == "breached" for v in s.slas),
        "fields": s.fields,
        "snapshot": s.model_dump(mode="json"),
        "seq": s.seq,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _upsert_record(session: Session, s: RecordSnapshot) -> bool:
    """One statement: insert the record, or move it forward if this snapshot is newer.

    The WHERE on seq makes a retried or late write a no-op; the first resolution and closure
    times are kept (COALESCE) even when a record is reopened and resolved again.
    """
    table = RecordRow.__table__  # type: ignore[attr-defined]
    values = {
        "id": s.id,
        **_record_values(s),
        "resolved_at": s.updated_at if s.state_category == "resolved" else None,
        "closed_at": s.updated_at if s.final else None,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values)
    changes: dict[str, Any] = {k: stmt.excluded[k] for k in values if k not in ("id", "created_at")}
    changes["resolved_at"] = func.coalesce(table.c.resolved_at, stmt.excluded.resolved_at)
    changes["closed_at"] = func.coalesce(table.c.closed_at, stmt.excluded.closed_at)
    newer = table.c.seq < stmt.excluded.seq
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=changes, where=newer)
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
    return bool(result.rowcount)


class RecordActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="persist_record")
    def persist_record(self, inp: PersistRecordInput) -> None:
        s = inp.snapshot
        with session_scope(self.engine) as session:
            insert_ignore(
                session,
                AuditRow,
                [
                    {
                        "record_id": s.id,
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "from_state": e.from_state,
                        "to_state": e.to_state,
                        "comment": e.comment,
                        "details": e.details,
                    }
                    for e in inp.events
                ],
                ["record_id", "seq"],
            )
            if not _upsert_record(session, s):
                return  # already written (a retry) or a newer state is there
            touched = {str(e.details["approval"]) for e in inp.events if "approval" in e.details}
            for task in (t for t in s.approvals if t.id in touched):
                approval = session.get(ApprovalRow, task.id) or ApprovalRow(
                    id=task.id,
                    record_id=s.id,
                    step=task.step,
                    level=task.level,
                    level_name=task.level_name,
                    state=task.state,
                    policy=task.policy,
                    needed=task.needed,
                    opened_at=task.opened_at,
                )
                approval.state, approval.needed, approval.deadline = task.state, task.needed, task.deadline
                approval.closed_at = task.closed_at
                approval.data = task.model_dump(mode="json")
                session.add(approval)
                session.execute(
                    delete(ApprovalApproverRow).where(col(ApprovalApproverRow.approval_id) == task.id)
                )
                if task.state == "pending":
                    undecided = set(task.eligible) - {d.by for d in task.decisions}
                    for user in sorted(undecided):
                        session.add(ApprovalApproverRow(approval_id=task.id, username=user))
