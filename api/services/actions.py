"""What changes a record: create it, fire a transition, change fields outside one, comment.

Each is one Temporal Update on the record's workflow (`updates`); a create starts the workflow with
its first state recorded (`client.launch`). The record id of a create and the update id of the
others come from the request's Idempotency-Key, so a retry acts once (api/idempotency.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError

from api.auth import Principal
from api.problems import unprocessable
from api.schemas import CommentOut
from api.services.lookup import find_record_key
from api.services.metrics import APPLIED, REFUSED, count_action
from api.services.refusals import refusal_problem, update_problem
from api.services.updates import send_update
from client.launch import DefinitionNotFound, launch_record, pinned_definition, record_id_for
from workflows.contracts import AddCommentInput, FireTransitionInput, RecordSnapshot, UpdateFieldsInput
from workflows.engine import Refusal
from workflows.process import ProcessWorkflow


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
    """Start a record of the definition's published version; answers once its first state is written.

    The record id comes from (caller, key), so a retried create finds the workflow it started
    instead of starting a second record. A record the engine would refuse (a missing field, a caller
    who may not start it) is refused before anything is written.
    """
    try:
        pinned = pinned_definition(engine, definition)
    except DefinitionNotFound as exc:
        raise unprocessable(
            str(exc), [{"path": "definition", "message": str(exc)}], zh=f"没有可用的流程定义：{exc}"
        ) from None
    record_id = record_id_for(f"{user.username}:{idempotency_key}" if idempotency_key else None)
    try:
        snapshot = await launch_record(
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
        count_action(definition, "create", REFUSED, refusal.kind)
        raise refusal_problem(refusal.kind, refusal.message, refusal.errors) from None
    except WorkflowUpdateFailedError as exc:
        problem = update_problem(exc)
        count_action(definition, "create", REFUSED if problem.status < 500 else "failed", problem.kind)
        raise problem from None
    count_action(definition, "create", APPLIED)
    return snapshot


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
    """Fire `trigger` with the fields it needs; the workflow checks who may and whether it can."""
    row = find_record_key(session, ref=ref, user=user)
    inp = FireTransitionInput(actor=user.actor(), trigger=trigger, fields=fields, comment=comment)
    return await send_update(session, client, row, ProcessWorkflow.fire_transition, inp, update_id=update_id)


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
    """Change fields outside a transition; priority and SLA targets follow in the workflow."""
    row = find_record_key(session, ref=ref, user=user)
    inp = UpdateFieldsInput(actor=user.actor(), fields=fields, comment=comment)
    return await send_update(session, client, row, ProcessWorkflow.update_fields, inp, update_id=update_id)


async def add_comment(
    *, session: Session, client: Client, user: Principal, ref: str, body: str, update_id: str | None
) -> CommentOut:
    """Add a comment to the audit trail: an Update too, so it takes its place in the record's order."""
    row = find_record_key(session, ref=ref, user=user)
    inp = AddCommentInput(actor=user.actor(), body=body)
    snap = await send_update(session, client, row, ProcessWorkflow.add_comment, inp, update_id=update_id)
    return CommentOut(
        record_id=snap.id,
        number=snap.number,
        seq=snap.seq,
        actor=user.username,
        body=body,
        at=snap.updated_at,
    )
