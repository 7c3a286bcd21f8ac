"""Writing the read model, the audit trail and the notifications: one transaction per change,
idempotent by sequence.

The workflow calls this after every change with the new snapshot and the audit events since the
last call. Audit rows are unique on (record id, seq) and inserted with ON CONFLICT DO NOTHING, and the
record row only moves forward (a stale or repeated write with a lower seq changes nothing), so a
retried activity never writes twice and never goes back in time.

This runs after every step of every record, so it is written for speed: the statements are built and
compiled once per dialect (core.db.cacheable: SQLAlchemy itself never caches the SQLite and PostgreSQL
INSERT … ON CONFLICT constructs, and compiling them on every call cost more CPU than the database
work), executed on a plain connection, and the audit rows in one executemany.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Table, delete, func
from sqlmodel import Session
from temporalio import activity

from activities.notifications import NotificationActivities
from core.db import cacheable, upsert_insert, write_lock
from core.tables import ApprovalApproverRow, ApprovalRow, AuditRow, RecordRow
from workflows.contracts import ApprovalTask, PersistRecordInput, PersistRecordResult, RecordSnapshot

RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
AUDIT: Table = AuditRow.__table__  # type: ignore[attr-defined]
APPROVALS: Table = ApprovalRow.__table__  # type: ignore[attr-defined]
APPROVERS: Table = ApprovalApproverRow.__table__  # type: ignore[attr-defined]

# Record columns a newer snapshot overwrites; id and created_at never change, and the first
# resolution and closure times are kept (COALESCE) even when a record is reopened and resolved again.
_RECORD_COLUMNS = (
    "number",
    "definition_key",
    "definition_version",
    "title",
    "state",
    "state_category",
    "priority",
    "requester",
    "assignee",
    "assignment_group",
    "final",
    "breached",
    "fields",
    "snapshot",
    "seq",
    "updated_at",
)
_APPROVAL_COLUMNS = ("state", "needed", "deadline", "closed_at", "data")


_RECORD_KEYS = (
    "id",
    *_RECORD_COLUMNS,
    "created_at",
    "resolved_at",
    "closed_at",
)
_AUDIT_KEYS = ("record_id", "seq", "at", "actor", "action", "from_state", "to_state", "comment", "details")
_APPROVAL_KEYS = ("id", "record_id", "step", "level", "level_name", "policy", "opened_at", *_APPROVAL_COLUMNS)


# Built and compiled once per dialect (core.db.cacheable: SQLAlchemy would compile these every time).
@cache
def _record_upsert(dialect: str) -> Any:
    """Insert the record, or move it forward if this snapshot is newer (the WHERE on seq makes a
    retried or late write a no-op)."""
    stmt = upsert_insert(dialect)(RECORDS)
    changes: dict[str, Any] = {k: stmt.excluded[k] for k in _RECORD_COLUMNS}
    changes["resolved_at"] = func.coalesce(RECORDS.c.resolved_at, stmt.excluded.resolved_at)
    changes["closed_at"] = func.coalesce(RECORDS.c.closed_at, stmt.excluded.closed_at)
    upsert = stmt.on_conflict_do_update(
        index_elements=["id"], set_=changes, where=RECORDS.c.seq < stmt.excluded.seq
    )
    return cacheable(upsert, dialect, _RECORD_KEYS)


@cache
def _audit_insert(dialect: str) -> Any:
    stmt = upsert_insert(dialect)(AUDIT).on_conflict_do_nothing(index_elements=["record_id", "seq"])
    return cacheable(stmt, dialect, _AUDIT_KEYS)


@cache
def _approval_upsert(dialect: str) -> Any:
    stmt = upsert_insert(dialect)(APPROVALS)
    upsert = stmt.on_conflict_do_update(
        index_elements=["id"], set_={k: stmt.excluded[k] for k in _APPROVAL_COLUMNS}
    )
    return cacheable(upsert, dialect, _APPROVAL_KEYS)


def _record_values(s: RecordSnapshot) -> dict[str, Any]:
    return {
        "id": s.id,
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
        "resolved_at": s.updated_at if s.state_category == "resolved" else None,
        "closed_at": s.updated_at if s.final else None,
    }


def _write_approval(conn: Connection, dialect: str, record_id: str, task: ApprovalTask) -> None:
    """The approval row and who may still decide it (the approver inbox reads these)."""
    conn.execute(
        _approval_upsert(dialect),
        {
            "id": task.id,
            "record_id": record_id,
            "step": task.step,
            "level": task.level,
            "level_name": task.level_name,
            "state": task.state,
            "policy": task.policy,
            "needed": task.needed,
            "opened_at": task.opened_at,
            "deadline": task.deadline,
            "closed_at": task.closed_at,
            "data": task.model_dump(mode="json"),
        },
    )
    conn.execute(delete(APPROVERS).where(APPROVERS.c.approval_id == task.id))
    if task.state == "pending":
        undecided = sorted(set(task.eligible) - {d.by for d in task.decisions})
        if undecided:
            conn.execute(APPROVERS.insert(), [{"approval_id": task.id, "username": u} for u in undecided])


class RecordActivities:
    def __init__(self, engine: Engine, notes: NotificationActivities | None = None) -> None:
        self.engine = engine
        # Decides each notification's channels (the worker's e-mail and webhook settings).
        self.notes = notes if notes is not None else NotificationActivities(engine)

    @activity.defn(name="persist_record")
    def persist_record(self, inp: PersistRecordInput) -> PersistRecordResult:
        """Write the change, its audit events and its notifications in one transaction."""
        with write_lock(self.engine), self.engine.begin() as conn:
            _write_change(conn, self.engine.dialect.name, inp)
            if not inp.notifications:
                return PersistRecordResult()
            # A session on the same connection: the directory look-ups and the notification rows
            # are part of the transaction (SQLAlchemy joins it and leaves its commit to us).
            with Session(bind=conn) as session:
                deliver = self.notes.record(session, inp.notifications)
        return PersistRecordResult(deliver=deliver)


def _write_change(conn: Connection, dialect: str, inp: PersistRecordInput) -> None:
    s = inp.snapshot
    if inp.events:
        conn.execute(
            _audit_insert(dialect),
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
        )
    result: CursorResult[Any] = conn.execute(_record_upsert(dialect), _record_values(s))
    if not result.rowcount:
        return  # already written (a retry) or a newer state is there
    touched = {str(e.details["approval"]) for e in inp.events if "approval" in e.details}
    for task in (t for t in s.approvals if t.id in touched):
        _write_approval(conn, dialect, s.id, task)
