"""Records: create, read, search, act on (transitions, field changes, comments), audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api import service
from api.deps import CurrentUser, EngineDep, IdempotencyKey, SessionDep, SettingsDep, TemporalClientDep
from api.idempotency import idempotent_request, update_id
from api.problems import responses
from api.schemas import (
    AddComment,
    CommentOut,
    CreateRecord,
    FireTransition,
    HistoryEntry,
    PatchRecord,
    RecordPage,
)
from workflows.contracts import RecordSnapshot

router = APIRouter(prefix="/api/v1/processes", tags=["processes"])
RecordRef = Annotated[
    str, Path(min_length=1, max_length=100, description="Record id or number (INC0000042).")
]
Filter = Annotated[str | None, Query(max_length=200)]


@router.post(
    "",
    status_code=201,
    response_model=RecordSnapshot,
    responses=responses(401, 403, 409, 422),
)
async def create_process(
    body: CreateRecord,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Start a record of a published definition; answers with the record in its first state."""

    async def run() -> tuple[int, object]:
        snap = await service.create_record(
            client=client,
            engine=engine,
            task_queue=settings.task_queue,
            user=user,
            definition=body.definition,
            title=body.title,
            fields=body.fields,
            idempotency_key=idempotency_key,
        )
        return 201, snap.model_dump(mode="json")

    return await idempotent_request(
        engine,
        request,
        username=user.username,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        run=run,
    )


@router.get("", response_model=RecordPage, responses=responses(401, 422))
def list_processes(
    user: CurrentUser,
    session: SessionDep,
    definition: Filter = None,
    state: Filter = None,
    assignee: Filter = None,
    assignment_group: Filter = None,
    requester: Filter = None,
    priority: Filter = None,
    q: Annotated[str | None, Query(max_length=200, description="Search in title and number.")] = None,
    breached: Annotated[bool | None, Query(description="Only records with a breached SLA (or none).")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> RecordPage:
    """Search records, newest first; follow `next_cursor` for the next page."""
    return service.list_records(
        session=session,
        user=user,
        definition=definition,
        state=state,
        assignee=assignee,
        assignment_group=assignment_group,
        requester=requester,
        priority=priority,
        q=q,
        breached=breached,
        limit=limit,
        cursor=cursor,
    )


@router.get("/{record}", response_model=RecordSnapshot, responses=responses(401, 404))
async def get_process(
    record: RecordRef, user: CurrentUser, session: SessionDep, client: TemporalClientDep
) -> RecordSnapshot:
    """One record with the transitions the caller may fire now."""
    return await service.get_record(session=session, client=client, ref=record, user=user)


@router.post(
    "/{record}/transitions",
    response_model=RecordSnapshot,
    responses=responses(401, 403, 404, 409, 422),
)
async def fire_transition(
    record: RecordRef,
    body: FireTransition,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Fire a transition; answers with the record in its new state."""

    async def run() -> tuple[int, object]:
        snap = await service.fire_transition(
            session=session,
            client=client,
            user=user,
            ref=record,
            trigger=body.trigger,
            fields=body.fields,
            comment=body.comment,
            update_id=update_id(user.username, idempotency_key),
        )
        return 200, snap.model_dump(mode="json")

    return await idempotent_request(
        engine,
        request,
        username=user.username,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        run=run,
    )


@router.patch("/{record}", response_model=RecordSnapshot, responses=responses(401, 403, 404, 409, 422))
async def patch_process(
    record: RecordRef,
    body: PatchRecord,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change fields outside a transition (priority and SLA targets follow impact and urgency)."""

    async def run() -> tuple[int, object]:
        snap = await service.update_fields(
            session=session,
            client=client,
            user=user,
            ref=record,
            fields=body.fields,
            comment=body.comment,
            update_id=update_id(user.username, idempotency_key),
        )
        return 200, snap.model_dump(mode="json")

    return await idempotent_request(
        engine,
        request,
        username=user.username,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        run=run,
    )


@router.post(
    "/{record}/comments",
    status_code=201,
    response_model=CommentOut,
    responses=responses(401, 404, 409, 422),
)
async def add_comment(
    record: RecordRef,
    body: AddComment,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a comment to the record's audit trail."""

    async def run() -> tuple[int, object]:
        out = await service.add_comment(
            session=session,
            client=client,
            user=user,
            ref=record,
            body=body.body,
            update_id=update_id(user.username, idempotency_key),
        )
        return 201, out.model_dump(mode="json")

    return await idempotent_request(
        engine,
        request,
        username=user.username,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        run=run,
    )


@router.get("/{record}/history", response_model=list[HistoryEntry], responses=responses(401, 404))
def get_history(record: RecordRef, user: CurrentUser, session: SessionDep) -> list[HistoryEntry]:
    """The record's append-only audit trail, oldest first."""
    return service.history(session=session, user=user, ref=record)
