"""Writing the read model, the audit trail and the notifications: one transaction per change,
correct when Temporal discards or retries a workflow task.

A local activity runs inside a workflow task, before Temporal has committed it. Temporal may discard
that task ("Task not found when completing", a timeout, a lost shard) and run it again, and the retry
may apply concurrent Updates in another order, so the same sequence number can then belong to another
action. So a write never trusts what a possibly discarded task left; it relies on two facts:

1. Everything up to `committed_seq` (the record's sequence number when the current workflow task
   began) is in Temporal's history for good. The record row stores it, and audit rows up to it are
   *sealed*: the database triggers refuse every UPDATE and every DELETE of a sealed row.
2. The workflow sends every event it has not yet seen sealed: those of earlier tasks not yet
   re-asserted, and this change's. The stored rows from the first of them on are made equal to them:
   a row that differs (another action, another instant: its `digest`) or that the workflow no longer
   has (the discarded task went further) is deleted, and the missing ones are inserted. So the rows a
   write seals are the ones the workflow knows committed, checked, not whatever was there.

The record row is the fence: a write whose `committed_seq` is lower than the stored one comes from an
older workflow task than the last writer (one Temporal gave up on) and is rolled back whole; within
one task, writes come in order and the last one wins. When rows were replaced, every approval of the
record is rewritten from the snapshot and the notification rows of the replaced steps are deleted.

This runs after every step of every record, so it is written for speed: statements are compiled once
per dialect (core.db.cacheable), executed on a plain connection; the usual write is one SELECT of the
unsealed tail, one INSERT of the new rows and the record upsert, which also seals.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from temporalio import activity

from activities.notifications import NotificationActivities
from core.db import as_text, cacheable, upsert_insert, write_lock
from core.tables import (
    ApprovalApproverRow,
    ApprovalRow,
    AuditRow,
    NotificationRow,
    RecordCiRow,
    RecordRow,
    RecordWindowRow,
    planned_window,
)
from workflows.contracts import (
    ApprovalTask,
    AuditEvent,
    PersistRecordInput,
    PersistRecordResult,
    RecordSnapshot,
)

log = logging.getLogger(__name__)
RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
AUDIT: Table = AuditRow.__table__  # type: ignore[attr-defined]
APPROVALS: Table = ApprovalRow.__table__  # type: ignore[attr-defined]
APPROVERS: Table = ApprovalApproverRow.__table__  # type: ignore[attr-defined]
NOTIFICATIONS: Table = NotificationRow.__table__  # type: ignore[attr-defined]
_RECORD_CIS: Table = RecordCiRow.__table__  # type: ignore[attr-defined]
_RECORD_WINDOWS: Table = RecordWindowRow.__table__  # type: ignore[attr-defined]

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
    "committed_seq",
    "open_digest",
    "updated_at",
    "sla_due_at",
)
_APPROVAL_COLUMNS = ("state", "needed", "deadline", "closed_at", "data")


_RECORD_KEYS = (
    "id",
    *_RECORD_COLUMNS,
    "created_at",
    "resolved_at",
    "closed_at",
    "responded_at",
)
_AUDIT_KEYS = (
    "record_id",
    "seq",
    "at",
    "actor",
    "action",
    "from_state",
    "to_state",
    "comment",
    "details",
    "digest",
)
_APPROVAL_KEYS = ("id", "record_id", "step", "level", "level_name", "policy", "opened_at", *_APPROVAL_COLUMNS)


# Built and compiled once per dialect (core.db.cacheable: SQLAlchemy would compile these every time).
@cache
def _record_upsert(dialect: str) -> Any:
    """Insert the record, or overwrite it unless the stored row was written by a later workflow task
    (the fence: `committed_seq`, the writer's committed sequence number; rowcount 0 then)."""
    stmt = upsert_insert(dialect)(RECORDS)
    changes: dict[str, Any] = {k: stmt.excluded[k] for k in _RECORD_COLUMNS}
    changes["resolved_at"] = func.coalesce(RECORDS.c.resolved_at, stmt.excluded.resolved_at)
    changes["closed_at"] = func.coalesce(RECORDS.c.closed_at, stmt.excluded.closed_at)
    changes["responded_at"] = func.coalesce(RECORDS.c.responded_at, stmt.excluded.responded_at)
    upsert = stmt.on_conflict_do_update(
        index_elements=["id"], set_=changes, where=RECORDS.c.committed_seq <= stmt.excluded.committed_seq
    )
    return cacheable(upsert, dialect, _RECORD_KEYS)


@cache
def _record_append(dialect: str) -> Any:
    """Overwrite the record if it is exactly as this workflow last wrote it: the same seq and the same
    open tail (its digest), and no later workflow task wrote it since (the fence). rowcount 0 else."""
    changes: dict[str, Any] = {k: bindparam(k, type_=RECORDS.c[k].type) for k in _RECORD_COLUMNS}
    changes["resolved_at"] = func.coalesce(
        RECORDS.c.resolved_at, bindparam("resolved_at", type_=RECORDS.c.resolved_at.type)
    )
    changes["closed_at"] = func.coalesce(
        RECORDS.c.closed_at, bindparam("closed_at", type_=RECORDS.c.closed_at.type)
    )
    changes["responded_at"] = func.coalesce(
        RECORDS.c.responded_at, bindparam("responded_at", type_=RECORDS.c.responded_at.type)
    )
    stmt = (
        update(RECORDS)
        .where(
            RECORDS.c.id == bindparam("record_id"),
            RECORDS.c.seq == bindparam("expected_seq"),
            RECORDS.c.open_digest == bindparam("expected_open"),
            RECORDS.c.committed_seq <= bindparam("committed_seq"),
        )
        .values(changes)
    )
    return as_text(stmt, dialect)


@cache
def _audit_insert(dialect: str) -> Any:
    # No ON CONFLICT: the rows in the way were deleted first, and a conflict now means another writer
    # of the same record got in between; the activity fails and its retry sees that writer's rows.
    return cacheable(upsert_insert(dialect)(AUDIT), dialect, _AUDIT_KEYS)


@cache
def _approval_upsert(dialect: str) -> Any:
    stmt = upsert_insert(dialect)(APPROVALS)
    upsert = stmt.on_conflict_do_update(
        index_elements=["id"], set_={k: stmt.excluded[k] for k in _APPROVAL_COLUMNS}
    )
    return cacheable(upsert, dialect, _APPROVAL_KEYS)


def _record_values(s: RecordSnapshot, committed_seq: int, open_digest: str) -> dict[str, Any]:
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
        # An operational-level clock is the support group's, not the customer's: it breaches no agreement.
        "breached": any(v.state == "breached" and not v.ola for v in s.slas),
        "fields": s.fields,
        "snapshot": s.model_dump(mode="json"),
        "seq": s.seq,
        "committed_seq": committed_seq,
        "open_digest": open_digest,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "resolved_at": s.updated_at if s.state_category == "resolved" else None,
        "closed_at": s.updated_at if s.final else None,
        "responded_at": s.responded_at,
        "sla_due_at": min(
            (v.due_at for v in s.slas if v.state == "running" and not v.ola and v.due_at is not None),
            default=None,
        ),
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
        try:
            return self._persist(inp)
        except _Fenced:
            return PersistRecordResult()

    def _persist(self, inp: PersistRecordInput) -> PersistRecordResult:
        with write_lock(self.engine), self.engine.begin() as conn:
            _write_change(conn, self.engine.dialect.name, inp)
            if not inp.notifications:
                return PersistRecordResult()
            # A session on the same connection: the directory look-ups and the notification rows
            # are part of the transaction (SQLAlchemy joins it and leaves its commit to us).
            with Session(bind=conn) as session:
                deliver = self.notes.record(session, inp.notifications)
        return PersistRecordResult(deliver=deliver)


def event_digest(event: AuditEvent) -> str:
    """What identifies an audit event's content: two tasks that gave a sequence number to different
    actions (or the same action at another instant) give different digests."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# The stored rows a write compares with. A text statement: SQLAlchemy builds a cache key for a Core
# select on every execution, which here cost more than the query (bench/README.md, issue 12).
_TAIL = text("SELECT seq, digest FROM audit_events WHERE record_id = :record_id AND seq >= :first")


class SealedRowDiffers(RuntimeError):
    """A sealed audit row differs from what the workflow says was committed: never overwritten.

    Only a writer from a workflow task that Temporal already gave up on can see this (its own task is
    void); the activity fails and nothing of it is written."""


class _Fenced(Exception):
    """The record was written since by a later workflow task: this write is rolled back whole."""


def _write_change(conn: Connection, dialect: str, inp: PersistRecordInput) -> None:
    s = inp.snapshot
    digests = [event_digest(e) for e in inp.events]
    values = _record_values(s, inp.committed_seq, _open_digest(inp.events, digests, inp.committed_seq))
    inserted = _append(conn, dialect, inp, digests, values)
    if inserted is None:
        inserted = _rewrite(conn, dialect, inp, digests, values)
        if inserted is None:
            return
    touched = {str(e.details["approval"]) for e in inserted if "approval" in e.details}
    for task in (t for t in s.approvals if t.id in touched):
        _write_approval(conn, dialect, s.id, task)
    if inp.cis is not None:
        _write_cis(conn, s.id, inp.cis)
    if "planned_start" in s.fields or "planned_end" in s.fields:
        _write_window(conn, s.id, s.fields)


def _write_window(conn: Connection, record_id: str, fields: dict[str, Any]) -> None:
    """The record's planned window index row becomes what its planned dates say now (none: no row).
    Only records that have planned dates pay for it: an incident's write runs no statement here."""
    conn.execute(_RECORD_WINDOWS.delete().where(_RECORD_WINDOWS.c.record_id == record_id))
    window = planned_window(fields)
    if window is not None:
        start, end = window
        row = {"record_id": record_id, "starts_at": start, "ends_at": end}
        conn.execute(_RECORD_WINDOWS.insert(), [{**row, "duration_s": int((end - start).total_seconds())}])


def _write_cis(conn: Connection, record_id: str, cis: dict[str, list[int]]) -> None:
    """The record's CI index rows become exactly what its `ci` fields name now (a few rows)."""
    conn.execute(_RECORD_CIS.delete().where(_RECORD_CIS.c.record_id == record_id))
    rows = [{"record_id": record_id, "field": f, "ci_id": ci} for f, ids in cis.items() for ci in ids]
    if rows:
        conn.execute(_RECORD_CIS.insert(), rows)


def _append(
    conn: Connection, dialect: str, inp: PersistRecordInput, digests: list[str], values: dict[str, Any]
) -> list[AuditEvent] | None:
    """The usual write: the stored record is as this workflow last wrote it (its seq and the digest
    of its open rows match what the workflow sent them as), so the new events are appended and the
    record overwritten, without reading anything first. None when the stored record is otherwise
    (a first write, a discarded task's rows, an older run): nothing was written then."""
    written = inp.written_seq
    if written is None or not inp.events or inp.events[-1].seq <= written:
        return None
    prior = [(e, d) for e, d in zip(inp.events, digests, strict=True) if e.seq <= written]
    expected = _tail_digest([(e.seq, d) for e, d in prior])
    changed = conn.execute(
        _record_append(dialect),
        {**values, "record_id": values["id"], "expected_seq": written, "expected_open": expected},
    ).rowcount
    if not changed:
        return None
    # No row above the stored seq can exist (a record and its rows are written together), so the
    # insert cannot conflict; if it did, the activity fails and its retry takes the careful path.
    new = [(e, d) for e, d in zip(inp.events, digests, strict=True) if e.seq > written]
    conn.execute(_audit_insert(dialect), [_audit_values(values["id"], e, d) for e, d in new])
    return [e for e, _ in new]


def _rewrite(
    conn: Connection, dialect: str, inp: PersistRecordInput, digests: list[str], values: dict[str, Any]
) -> list[AuditEvent] | None:
    """The careful write: read the open tail back and make it equal to the events sent. Returns the
    events inserted, or None when rows were replaced (and every approval has been rewritten)."""
    s = inp.snapshot
    # The audit rows first: the triggers decide what is sealed by the record row's committed_seq as
    # it was before this write. Then the record row, whose WHERE is the fence.
    replaced, inserted = _write_audit(conn, dialect, s.id, inp.events, digests, s.seq)
    if not conn.execute(_record_upsert(dialect), values).rowcount:
        raise _Fenced
    if not replaced:
        return inserted
    # A discarded task left rows here: its approvals and notifications may be wrong too.
    log.info("record %s: replaced audit rows %s left by a discarded workflow task", s.id, replaced)
    _discard_notifications(conn, s.id, replaced)
    keep = [t.id for t in s.approvals]
    conn.execute(delete(APPROVERS).where(APPROVERS.c.approval_id.in_(_record_approvals(s.id, keep))))
    conn.execute(delete(APPROVALS).where(APPROVALS.c.record_id == s.id, APPROVALS.c.id.not_in(keep)))
    for task in s.approvals:
        _write_approval(conn, dialect, s.id, task)
    return None


def _tail_digest(pairs: list[tuple[int, str]]) -> str:
    """What identifies a run of audit rows: their sequence numbers and their rows' digests."""
    return hashlib.sha256(";".join(f"{seq}:{d}" for seq, d in pairs).encode()).hexdigest()[:32]


def _open_digest(events: list[AuditEvent], digests: list[str], committed_seq: int) -> str:
    """The digest of the rows this write leaves open: those above what Temporal has committed. They
    are the events the workflow's next write sends first (it keeps exactly these unsealed)."""
    return _tail_digest([(e.seq, d) for e, d in zip(events, digests, strict=True) if e.seq > committed_seq])


def _record_approvals(record_id: str, keep: list[str]) -> Any:
    return select(APPROVALS.c.id).where(APPROVALS.c.record_id == record_id, APPROVALS.c.id.not_in(keep))


def _write_audit(
    conn: Connection,
    dialect: str,
    record_id: str,
    events: list[AuditEvent],
    digests: list[str],
    last_seq: int,
) -> tuple[list[int], list[AuditEvent]]:
    """Make the stored rows from events[0].seq on equal to `events` (with no events: delete the rows
    beyond `last_seq`, the workflow's own, as a resync asks). Returns the sequence numbers of the rows
    it replaced, and the events it inserted."""
    first = events[0].seq if events else last_seq + 1
    rows = conn.execute(_TAIL, {"record_id": record_id, "first": first}).tuples().all()
    stored: dict[int, str | None] = dict(cast("list[tuple[int, str | None]]", rows))
    wanted = {e.seq: (d, e) for e, d in zip(events, digests, strict=True)}
    stale = sorted(seq for seq, digest in stored.items() if seq not in wanted or wanted[seq][0] != digest)
    if stale:
        try:
            conn.execute(delete(AUDIT).where(AUDIT.c.record_id == record_id, AUDIT.c.seq.in_(stale)))
        except DBAPIError as exc:  # the trigger: one of them is sealed (the transaction is lost)
            raise SealedRowDiffers(
                f"record {record_id}: sealed audit rows among {stale} differ from the workflow"
            ) from exc
    missing = [wanted[seq] for seq in sorted(wanted) if seq not in stored or seq in stale]
    if missing:
        conn.execute(_audit_insert(dialect), [_audit_values(record_id, e, d) for d, e in missing])
    return stale, [e for _, e in missing]


def _audit_values(record_id: str, e: AuditEvent, digest: str) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "comment": e.comment,
        "details": e.details,
        "digest": digest,
    }


def _discard_notifications(conn: Connection, record_id: str, seqs: list[int]) -> None:
    """The notification rows a discarded task wrote for the steps it gave these numbers: inbox copies
    of actions that never happened (their e-mails were never sent: only a committed task starts the
    `notify` activity)."""
    for seq in seqs:
        prefix = f"{record_id}:{seq}:"
        conn.execute(delete(NOTIFICATIONS).where(NOTIFICATIONS.c.key.startswith(prefix, autoescape=True)))
