"""Administration of the directory: users, groups, memberships, API tokens (role admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import AdminUser, CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import responses
from api.schemas import (
    CreateGroup,
    CreateToken,
    CreateUser,
    GroupOut,
    PatchUser,
    TokenCreated,
    TokenOut,
    UserOut,
)
from api.services import admin
from core.db import session_scope

router = APIRouter(prefix="/api/v1", tags=["identity"])
Name = Annotated[str, Path(min_length=1, max_length=64)]
ADMIN_ERRORS = responses(401, 403, 404, 422)


@router.get("/me", response_model=UserOut, responses=responses(401))
def me(user: CurrentUser, session: SessionDep) -> UserOut:
    """The caller: roles, groups and language, as the server sees them."""
    return admin.get_user(session, username=user.username)


@router.get("/admin/users", response_model=list[UserOut], responses=responses(401, 403))
def list_users(_admin: AdminUser, session: SessionDep) -> list[UserOut]:
    """Every user with roles and groups."""
    return admin.list_users(session)


@router.post("/admin/users", status_code=201, response_model=UserOut, responses=responses(401, 403, 409, 422))
async def create_user(
    body: CreateUser, user: AdminUser, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Create a user (a service account for integrators)."""

    async def act() -> UserOut:
        with session_scope(engine) as session:
            return admin.create_user(session, **body.model_dump(), actor=user.username)

    return await idempotency.respond(body, act, status=201)


@router.get("/admin/users/{username}", response_model=UserOut, responses=ADMIN_ERRORS)
def get_user(username: Name, _admin: AdminUser, session: SessionDep) -> UserOut:
    """One user."""
    return admin.get_user(session, username=username)


@router.patch("/admin/users/{username}", response_model=UserOut, responses=ADMIN_ERRORS)
def update_user(username: Name, body: PatchUser, user: AdminUser, session: SessionDep) -> UserOut:
    """Change a user's roles, groups, language or e-mail, or deactivate them (their tokens stop working)."""
    return admin.update_user(
        session, username=username, **body.model_dump(exclude_unset=True), actor=user.username
    )


@router.get("/admin/groups", response_model=list[GroupOut], responses=responses(401, 403))
def list_groups(_admin: AdminUser, session: SessionDep) -> list[GroupOut]:
    """Every group with its members."""
    return admin.list_groups(session)


@router.post(
    "/admin/groups", status_code=201, response_model=GroupOut, responses=responses(401, 403, 404, 409, 422)
)
async def create_group(
    body: CreateGroup, user: AdminUser, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Create a group (an assignment group, a CAB…)."""

    async def act() -> GroupOut:
        with session_scope(engine) as session:
            return admin.create_group(session, **body.model_dump(), actor=user.username)

    return await idempotency.respond(body, act, status=201)


@router.put("/admin/groups/{group}/members/{username}", response_model=GroupOut, responses=ADMIN_ERRORS)
def add_member(group: Name, username: Name, user: AdminUser, session: SessionDep) -> GroupOut:
    """Add a user to a group."""
    return admin.add_member(session, group=group, username=username, actor=user.username)


@router.delete("/admin/groups/{group}/members/{username}", response_model=GroupOut, responses=ADMIN_ERRORS)
def remove_member(group: Name, username: Name, user: AdminUser, session: SessionDep) -> GroupOut:
    """Remove a user from a group."""
    return admin.remove_member(session, group=group, username=username, actor=user.username)


@router.get("/admin/tokens", response_model=list[TokenOut], responses=responses(401, 403, 422))
def list_tokens(
    _admin: AdminUser, session: SessionDep, username: Annotated[str | None, Query(max_length=64)] = None
) -> list[TokenOut]:
    """API tokens (never their secrets), optionally of one user."""
    return admin.list_tokens(session, username=username)


@router.post("/admin/tokens", status_code=201, response_model=TokenCreated, responses=ADMIN_ERRORS)
def create_token(body: CreateToken, user: AdminUser, session: SessionDep) -> TokenCreated:
    """Create an API token for a user; the token is in this answer only (so no Idempotency-Key replay)."""
    return admin.create_token(session, username=body.username, name=body.name, actor=user.username)


@router.post("/admin/tokens/{token_id}/revoke", response_model=TokenOut, responses=ADMIN_ERRORS)
def revoke_token(
    token_id: Annotated[str, Path(min_length=1, max_length=32)], user: AdminUser, session: SessionDep
) -> TokenOut:
    """Revoke a token: it stops working at once."""
    return admin.revoke_token(session, token_id=token_id, actor=user.username)
