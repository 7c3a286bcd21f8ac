"""Approvals: the caller's inbox and decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api import service
from api.deps import CurrentUser, EngineDep, IdempotencyKey, SessionDep, TemporalClientDep
from api.idempotency import idempotent_request, update_id
from api.problems import responses
from api.schemas import ApprovalOut, Decide

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])


@router.get("", response_model=list[ApprovalOut], responses=responses(401, 422))
def list_approvals(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[Literal["pending"], Query(description="Only `pending` for now.")] = "pending",
) -> list[ApprovalOut]:
    """Approval tasks waiting for the caller's decision, oldest first, with their record."""
    return service.pending_approvals(session=session, user=user)


@router.post(
    "/{approval_id}/decision",
    response_model=ApprovalOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def decide(
    approval_id: Annotated[str, Path(min_length=1, max_length=80)],
    body: Decide,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Approve or reject; answers with the task and its outcome so far."""

    async def run() -> tuple[int, object]:
        out = await service.decide(
            session=session,
            client=client,
            user=user,
            approval_id=approval_id,
            decision=body.decision,
            comment=body.comment,
            update_id=update_id(user.username, idempotency_key),
        )
        return 200, out.model_dump(mode="json")

    return await idempotent_request(
        engine,
        request,
        username=user.username,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        run=run,
    )
