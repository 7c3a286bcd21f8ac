"""Writing the read model and the audit trail: one transaction per change, idempotent by sequence.

The workflow calls this after every change with the new snapshot and the audit events since the
last call. Audit rows are unique on (record id, seq) and inserted with ON CONFLICT DO NOTHING, and the
record row only moves forward (a stale or repeated write with a lower seq changes nothing), so a
retried activity never writes twice and never goes back in time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import col
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
            row = session.get(RecordRow, s.id, with_for_update=True)
            if row is not None and row.seq >= s.seq:
                return  # already written (a retry) or a newer state is there
            values = _record_values(s)
            if row is None:
                row = RecordRow(id=s.id, **values)
            else:
                for key, value in values.items():
                    setattr(row, key, value)
            if s.state_category == "resolved" and row.resolved_at is None:
                row.resolved_at = s.updated_at
            if s.final and row.closed_at is None:
                row.closed_at = s.updated_at
            session.add(row)
            for task in s.approvals:
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
