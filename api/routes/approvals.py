"""Approvals: the caller's inbox and decisions."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import CurrentUser, Idempotent, SessionDep, TemporalClientDep
from api.problems import responses
from api.schemas import ApprovalOut, Decide
from api.services import approvals

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])


@router.get("", response_model=list[ApprovalOut], responses=responses(401, 422))
def list_approvals(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[Literal["pending"], Query(description="Only `pending` for now.")] = "pending",
) -> list[ApprovalOut]:
    """Approval tasks waiting for the caller's decision, oldest first, with their record."""
    return approvals.pending_approvals(session=session, user=user)


@router.post(
    "/{approval_id}/decision",
    response_model=ApprovalOut,
    responses=responses(401, 403, 404, 409, 422, 503),
)
async def decide(
    approval_id: Annotated[str, Path(min_length=1, max_length=80)],
    body: Decide,
    user: CurrentUser,
    session: SessionDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Approve or reject; answers with the task and its outcome so far. With `on_behalf_of`, decide as
    that approver's substitute (403 when no delegation from them to you is in force; separation of
    duties applies to both of you)."""
    act = partial(
        approvals.decide,
        session=session,
        client=client,
        user=user,
        approval_id=approval_id,
        decision=body.decision,
        comment=body.comment,
        update_id=idempotency.update_id,
        on_behalf_of=body.on_behalf_of,
    )
    return await idempotency.respond(body, act)
