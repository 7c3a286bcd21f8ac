"""Delegations: an approver's substitute for a date range (docs/identity.md, "Delegation")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import CurrentUser, EngineDep, Idempotent, SessionDep
from api.identity.schemas import CreateDelegation, DelegationOut
from api.problems import responses
from api.services import delegations
from core.db import session_scope

router = APIRouter(prefix="/api/v1/delegations", tags=["identity"])
Who = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.post("", status_code=201, response_model=DelegationOut, responses=responses(401, 403, 404, 422))
async def create_delegation(
    body: CreateDelegation, user: CurrentUser, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Name a substitute who may decide your pending approvals from `starts_at` (now if left out)
    until `ends_at`; admins may set one for someone else (`principal`). The substitute is notified.
    403: `principal` is someone else and you are not an admin; 404: no such active user;
    422: the substitute is the approver, a service account, or the period is empty, past or over a year."""

    async def act() -> DelegationOut:
        with session_scope(engine) as session:
            return delegations.create(session, caller=user, **body.model_dump())

    return await idempotency.respond(body, act, status=201)


@router.get("", response_model=list[DelegationOut], responses=responses(401, 422))
def list_delegations(
    user: CurrentUser,
    session: SessionDep,
    principal: Annotated[Who, Query(description="Only delegations given by this approver.")] = None,
    substitute: Annotated[Who, Query(description="Only delegations to this substitute.")] = None,
    in_force: Annotated[
        bool | None, Query(description="Only those in force now (true) or not (false).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DelegationOut]:
    """Delegations, newest first: the ones you gave or received (admins and auditors: everyone's)."""
    return delegations.listing(
        session, caller=user, principal=principal, substitute=substitute, in_force=in_force, limit=limit
    )


@router.delete("/{delegation_id}", response_model=DelegationOut, responses=responses(401, 403, 404, 409, 422))
def revoke_delegation(
    delegation_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The delegation's id.")],
    user: CurrentUser,
    session: SessionDep,
) -> DelegationOut:
    """End a delegation now (its approver or an admin). 403: you are its substitute;
    404: no such delegation you may see; 409: already revoked."""
    return delegations.revoke(session, caller=user, delegation_id=delegation_id)
