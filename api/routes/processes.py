"""Records: create, read, search, act on (transitions, field changes, comments), audit trail."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import CurrentUser, EngineDep, Idempotent, SessionDep, SettingsDep, TemporalClientDep
from api.problems import caller_language, responses
from api.schemas import (
    AddComment,
    CommentOut,
    CreateRecord,
    FireTransition,
    HistoryEntry,
    PatchRecord,
    RecordPage,
)
from api.services import actions, ci_records, records, search
from cmdb.impact import MAX_DEPTH
from cmdb.views import RecordImpactOut
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
    responses=responses(401, 403, 409, 422, 503),
)
async def create_process(
    body: CreateRecord,
    user: CurrentUser,
    engine: EngineDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency: Idempotent,
) -> Response:
    """Start a record of a published definition; answers with the record in its first state."""
    act = partial(
        actions.create_record,
        client=client,
        engine=engine,
        task_queue=settings.task_queue,
        user=user,
        definition=body.definition,
        title=body.title,
        fields=body.fields,
        idempotency_key=idempotency.key,
    )
    return await idempotency.respond(body, act, status=201)


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
    return search.list_records(
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
    return await records.get_record(session=session, client=client, ref=record, user=user)


@router.post(
    "/{record}/transitions",
    response_model=RecordSnapshot,
    responses=responses(401, 403, 404, 409, 422, 503),
)
async def fire_transition(
    record: RecordRef,
    body: FireTransition,
    user: CurrentUser,
    session: SessionDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Fire a transition; answers with the record in its new state."""
    act = partial(
        actions.fire_transition,
        session=session,
        client=client,
        user=user,
        ref=record,
        trigger=body.trigger,
        fields=body.fields,
        comment=body.comment,
        update_id=idempotency.update_id,
    )
    return await idempotency.respond(body, act)


@router.patch("/{record}", response_model=RecordSnapshot, responses=responses(401, 403, 404, 409, 422, 503))
async def patch_process(
    record: RecordRef,
    body: PatchRecord,
    user: CurrentUser,
    session: SessionDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Change fields outside a transition (priority and SLA targets follow impact and urgency)."""
    act = partial(
        actions.update_fields,
        session=session,
        client=client,
        user=user,
        ref=record,
        fields=body.fields,
        comment=body.comment,
        update_id=idempotency.update_id,
    )
    return await idempotency.respond(body, act)


@router.post(
    "/{record}/comments",
    status_code=201,
    response_model=CommentOut,
    responses=responses(401, 404, 409, 422, 503),
)
async def add_comment(
    record: RecordRef,
    body: AddComment,
    user: CurrentUser,
    session: SessionDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Add a comment to the record's audit trail."""
    act = partial(
        actions.add_comment,
        session=session,
        client=client,
        user=user,
        ref=record,
        body=body.body,
        update_id=idempotency.update_id,
    )
    return await idempotency.respond(body, act, status=201)


@router.get("/{record}/impact", response_model=RecordImpactOut, responses=responses(401, 404))
def get_impact(
    record: RecordRef,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    direction: Annotated[
        Literal["upstream", "downstream", "both"],
        Query(description="downstream: what relies on the record's CIs; upstream: what they rely on."),
    ] = "downstream",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 3,
) -> RecordImpactOut:
    """The impact of the record's configuration items (its `ci` fields): the CIs reached, the business
    services affected and the other open records on those CIs, for an assessor or the CAB."""
    return ci_records.record_impact(session, user, record, depth, direction, caller_language(request))


@router.get("/{record}/history", response_model=list[HistoryEntry], responses=responses(401, 404))
def get_history(record: RecordRef, user: CurrentUser, session: SessionDep) -> list[HistoryEntry]:
    """The record's append-only audit trail, oldest first."""
    return records.history(session=session, user=user, ref=record)
