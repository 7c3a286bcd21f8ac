"""What the record and approval routes do: keyword-only functions over a session and a Temporal client.

Writes go to the record's workflow as Temporal Updates, so a refusal comes back synchronously with the
rule that refused it, and a success returns only after the workflow wrote the read model (so the next
GET sees it). Reads of many records come from the SQL read model; one running record's
`available_transitions` come from the workflow itself, computed for the caller.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, Table, bindparam, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.launch import DefinitionNotFound, launch_record, pinned_definition, record_id_for
from api.auth import Principal
from api.problems import REFUSAL_STATUS, ProblemError, conflict, not_found, unprocessable
from api.schemas import ApprovalOut, ApprovalRecord, CommentOut, HistoryEntry, RecordPage, RecordSummary
from core.tables import ApprovalApproverRow, ApprovalRow, AuditRow, RecordRow
from workflows.contracts import (
    AddCommentInput,
    ApprovalTask,
    DecideApprovalInput,
    FireTransitionInput,
    RecordSnapshot,
    SnapshotQuery,
    UpdateFieldsInput,
)
from workflows.engine import Refusal
from workflows.process import ProcessWorkflow

# Roles that work on other people's records; a plain requester sees only their own.
STAFF_ROLES = ("admin", "process_owner", "agent", "approver", "integrator")


# --- errors ------------------------------------------------------------------------------------------


def refusal_problem(kind: str, message: str, errors: list[dict[str, str]] | None = None) -> ProblemError:
    return ProblemError(REFUSAL_STATUS.get(kind, 409), message, errors=errors, kind=kind)


def _from_update_error(exc: WorkflowUpdateFailedError) -> ProblemError:
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        errors: list[dict[str, str]] = []
        details = cause.details[0] if cause.details else None
        if isinstance(details, dict) and isinstance(details.get("errors"), list):
            errors = [
                {"path": str(e.get("path", "")), "message": str(e.get("message", ""))}
                for e in details["errors"]
            ]
        return refusal_problem(cause.type or "Conflict", cause.message, errors)
    return ProblemError(500, f"the workflow failed the request: {cause}")


@dataclass(frozen=True)
class RecordKey:
    """What acting on a record needs from the read model (not its snapshot, which is kilobytes of JSON)."""

    id: str
    number: str
    state: str
    final: bool


def _closed(row: RecordKey | RecordRow) -> ProblemError:
    return conflict(f"record {row.number} is closed ({row.state}); it takes no more actions", "RecordClosed")


# --- look-ups ----------------------------------------------------------------------------------------


def can_see_all(user: Principal) -> bool:
    return user.has_role(*STAFF_ROLES)


def find_record(session: Session, *, ref: str, user: Principal) -> RecordRow:
    """A record by id or number, if the caller may see it (else 404, which reveals nothing)."""
    row = session.get(RecordRow, ref) if len(ref) <= 64 else None
    if row is None:
        row = session.exec(select(RecordRow).where(RecordRow.number == ref)).first()
    if row is None or not (can_see_all(user) or user.username in (row.requester, row.assignee)):
        raise not_found(f"no record '{ref}'")
    return row


_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
_KEY_COLUMNS = (
    _RECORDS.c.id,
    _RECORDS.c.number,
    _RECORDS.c.state,
    _RECORDS.c.final,
    _RECORDS.c.requester,
    _RECORDS.c.assignee,
)
_KEY_BY_ID = core_select(*_KEY_COLUMNS).where(_RECORDS.c.id == bindparam("ref"))
_KEY_BY_NUMBER = core_select(*_KEY_COLUMNS).where(_RECORDS.c.number == bindparam("ref"))


def _record_key(row: Any) -> RecordKey:
    return RecordKey(id=row.id, number=row.number, state=row.state, final=row.final)


def find_record_key(session: Session, *, ref: str, user: Principal) -> RecordKey:
    """`find_record` for an action: the same look-up and visibility rule, without loading the record."""
    row = session.execute(_KEY_BY_ID, {"ref": ref}).first() if len(ref) <= 64 else None
    if row is None:
        row = session.execute(_KEY_BY_NUMBER, {"ref": ref}).first()
    if row is None or not (can_see_all(user) or user.username in (row.requester, row.assignee)):
        raise not_found(f"no record '{ref}'")
    return _record_key(row)


def stored_snapshot(row: RecordRow) -> RecordSnapshot:
    snap = RecordSnapshot.model_validate(row.snapshot)
    return snap.model_copy(update={"available_transitions": []})


async def get_record(*, session: Session, client: Client, ref: str, user: Principal) -> RecordSnapshot:
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


def release(session: Session) -> None:
    """End the request's transaction before awaiting Temporal.

    An Update can take a while under load; holding a pooled connection meanwhile exhausts the pool
    and then blocks the event loop (every other request, and the worker in `itilflow dev`).
    """
    session.commit()


async def _update(
    session: Session, client: Client, row: RecordKey, update: Any, arg: Any, *, update_id: str | None
) -> RecordSnapshot:
    if row.final:
        raise _closed(row)
    release(session)
    handle = client.get_workflow_handle_for(ProcessWorkflow.run, row.id)
    try:
        snapshot: RecordSnapshot = await handle.execute_update(update, arg, id=update_id)
    except WorkflowUpdateFailedError as exc:
        raise _from_update_error(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # completed between our read and the update
            raise _closed(row) from None
        raise
    return snapshot


# --- records -----------------------------------------------------------------------------------------


async def create_record(
    *,
    client: Client,
    engine: Engine,
    task_queue: str,
    user: Principal,
    definition: str,
    title: str,
    fields: dict[str, Any],
    idempotency_key: str | None,
) -> RecordSnapshot:
    try:
        pinned = pinned_definition(engine, definition)
    except DefinitionNotFound as exc:
        raise unprocessable(str(exc), [{"path": "definition", "message": str(exc)}]) from None
    record_id = record_id_for(f"{user.username}:{idempotency_key}" if idempotency_key else None)
    try:
        return await launch_record(
            client,
            engine,
            task_queue=task_queue,
            pinned=pinned,
            record_id=record_id,
            title=title,
            fields=fields,
            actor=user.actor(),
        )
    except Refusal as refusal:
        raise refusal_problem(refusal.kind, refusal.message, refusal.errors) from None
    except WorkflowUpdateFailedError as exc:
        raise _from_update_error(exc) from None


async def fire_transition(
    *,
    session: Session,
    client: Client,
    user: Principal,
    ref: str,
    trigger: str,
    fields: dict[str, Any],
    comment: str | None,
    update_id: str | None,
) -> RecordSnapshot:
    row = find_record_key(session, ref=ref, user=user)
    inp = FireTransitionInput(actor=user.actor(), trigger=trigger, fields=fields, comment=comment)
    return await _update(session, client, row, ProcessWorkflow.fire_transition, inp, update_id=update_id)


async def update_fields(
    *,
    session: Session,
    client: Client,
    user: Principal,
    ref: str,
    fields: dict[str, Any],
    comment: str | None,
    update_id: str | None,
) -> RecordSnapshot:
    row = find_record_key(session, ref=ref, user=user)
    inp = UpdateFieldsInput(actor=user.actor(), fields=fields, comment=comment)
    return await _update(session, client, row, ProcessWorkflow.update_fields, inp, update_id=update_id)


async def add_comment(
    *, session: Session, client: Client, user: Principal, ref: str, body: str, update_id: str | None
) -> CommentOut:
    row = find_record_key(session, ref=ref, user=user)
    inp = AddCommentInput(actor=user.actor(), body=body)
    snap = await _update(session, client, row, ProcessWorkflow.add_comment, inp, update_id=update_id)
    return CommentOut(
        record_id=snap.id,
        number=snap.number,
        seq=snap.seq,
        actor=user.username,
        body=body,
        at=snap.updated_at,
    )


def history(*, session: Session, user: Principal, ref: str) -> list[HistoryEntry]:
    row = find_record_key(session, ref=ref, user=user)
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


def _encode_cursor(row: RecordRow) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, record_id = json.loads(raw)
        return datetime.fromisoformat(at), str(record_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise unprocessable(
            "the cursor is not one this API returned", [{"path": "query.cursor", "message": "invalid cursor"}]
        ) from None


def summary(row: RecordRow) -> RecordSummary:
    return RecordSummary(
        id=row.id,
        number=row.number,
        definition=row.definition_key,
        definition_version=row.definition_version,
        title=row.title,
        state=row.state,
        state_category=row.state_category,
        priority=row.priority,
        requester=row.requester,
        assignee=row.assignee,
        assignment_group=row.assignment_group,
        breached=row.breached,
        final=row.final,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_records(
    *,
    session: Session,
    user: Principal,
    definition: str | None = None,
    state: str | None = None,
    assignee: str | None = None,
    assignment_group: str | None = None,
    requester: str | None = None,
    priority: str | None = None,
    q: str | None = None,
    breached: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> RecordPage:
    """Newest first, keyset-paginated on (created_at, id): stable while records change."""
    query = select(RecordRow)
    equal = {
        RecordRow.definition_key: definition,
        RecordRow.state: state,
        RecordRow.assignee: assignee,
        RecordRow.assignment_group: assignment_group,
        RecordRow.requester: requester,
        RecordRow.priority: priority,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(col(column) == value)
    if breached is not None:
        query = query.where(col(RecordRow.breached) == breached)
    if q:
        query = query.where(
            or_(
                col(RecordRow.title).icontains(q, autoescape=True),
                col(RecordRow.number).icontains(q, autoescape=True),
            )
        )
    if not can_see_all(user):
        query = query.where(
            or_(col(RecordRow.requester) == user.username, col(RecordRow.assignee) == user.username)
        )
    if cursor:
        at, record_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                col(RecordRow.created_at) < at,
                (col(RecordRow.created_at) == at) & (col(RecordRow.id) < record_id),
            )
        )
    query = query.order_by(col(RecordRow.created_at).desc(), col(RecordRow.id).desc()).limit(limit + 1)
    rows = list(session.exec(query).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return RecordPage(
        items=[summary(r) for r in rows], next_cursor=_encode_cursor(rows[-1]) if more else None
    )


# --- approvals ---------------------------------------------------------------------------------------


def _approval_out(task: ApprovalTask, row: RecordRow | RecordSnapshot) -> ApprovalOut:
    if isinstance(row, RecordRow):
        record = ApprovalRecord(
            id=row.id,
            number=row.number,
            title=row.title,
            definition=row.definition_key,
            state=row.state,
            state_category=row.state_category,
            priority=row.priority,
            requester=row.requester,
            fields=row.fields or {},
        )
    else:
        record = ApprovalRecord(
            id=row.id,
            number=row.number,
            title=row.title,
            definition=row.definition,
            state=row.state,
            state_category=row.state_category,
            priority=row.priority,
            requester=row.requester,
            fields=row.fields,
        )
    return ApprovalOut(**task.model_dump(), record=record)


def pending_approvals(*, session: Session, user: Principal) -> list[ApprovalOut]:
    """Tasks waiting for the caller's decision, oldest first."""
    rows = session.exec(
        select(ApprovalRow, RecordRow)
        .join(ApprovalApproverRow, col(ApprovalApproverRow.approval_id) == col(ApprovalRow.id))
        .join(RecordRow, col(RecordRow.id) == col(ApprovalRow.record_id))
        .where(ApprovalApproverRow.username == user.username, ApprovalRow.state == "pending")
        .order_by(col(ApprovalRow.opened_at), col(ApprovalRow.id))
    ).all()
    return [_approval_out(ApprovalTask.model_validate(a.data), r) for a, r in rows]


async def decide(
    *,
    session: Session,
    client: Client,
    user: Principal,
    approval_id: str,
    decision: Literal["approve", "reject"],
    comment: str | None,
    update_id: str | None,
) -> ApprovalOut:
    approval = session.get(ApprovalRow, approval_id) if len(approval_id) <= 80 else None
    if approval is None:
        raise not_found(f"no approval '{approval_id}'")
    found = session.execute(_KEY_BY_ID, {"ref": approval.record_id}).first()
    if found is None:  # pragma: no cover - written in one transaction with the approval
        raise not_found(f"no approval '{approval_id}'")
    row = _record_key(found)
    # No pre-check of the task's state here: a retried decision (same update id) must reach the
    # workflow, which answers it with the current task instead of "already decided".
    inp = DecideApprovalInput(actor=user.actor(), approval_id=approval_id, decision=decision, comment=comment)
    snap = await _update(session, client, row, ProcessWorkflow.decide_approval, inp, update_id=update_id)
    task = next((t for t in snap.approvals if t.id == approval_id), None)
    if task is None:  # pragma: no cover - an approval never leaves its record
        raise not_found(f"no approval '{approval_id}'")
    return _approval_out(task, snap)
