"""The caller's own account (language, password), the role catalogue, role grants, password resets
and the admin audit trail (docs/identity.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.auth import Principal
from api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep, require_roles
from api.identity import accounts, audit
from api.identity.roles import catalogue
from api.identity.schemas import AdminEventOut, AuditAction, ChangePassword, PasswordReset, PatchMe, RoleOut
from api.problems import responses
from api.schemas import UserOut
from api.services import admin

router = APIRouter(prefix="/api/v1", tags=["identity"])
Name = Annotated[str, Path(min_length=1, max_length=64)]
RoleName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Auditor = Annotated[Principal, Depends(require_roles("admin", "auditor"))]


@router.patch("/me", response_model=UserOut, responses=responses(401, 422))
def patch_me(body: PatchMe, user: CurrentUser, session: SessionDep) -> UserOut:
    """Change your own language (pages, e-mails and messages use it) or the name shown for you."""
    accounts.update_profile(session, username=user.username, **body.model_dump(exclude_unset=True))
    return admin.get_user(session, username=user.username)


@router.post("/me/password", status_code=204, responses=responses(401, 403, 409, 422))
def change_password(
    body: ChangePassword, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """Change your own password: the current one is required, the new one must meet the policy
    (403 wrong current password; 409 the account has no password here: LDAP, OIDC, service account;
    422 the policy, each reason in your language)."""
    accounts.change_password(
        session,
        settings,
        username=user.username,
        current=body.current_password,
        new=body.new_password,
        lang=user.language,
    )
    return Response(status_code=204)


@router.get("/admin/roles", response_model=list[RoleOut], responses=responses(401, 403))
def list_roles(_admin: AdminUser, session: SessionDep) -> list[RoleOut]:
    """Every role that can be granted: itilflow's own, then each role a published definition declares
    or names, with its labels and the definitions it comes from."""
    return [
        RoleOut(name=r.name, label=r.label, builtin=r.builtin, sources=r.sources)
        for r in catalogue(session).values()
    ]


@router.put(
    "/admin/users/{username}/roles/{role}", response_model=UserOut, responses=responses(401, 403, 404, 422)
)
def grant_role(username: Name, role: RoleName, user: AdminUser, session: SessionDep) -> UserOut:
    """Grant a role (nothing changes if the user has it); an unknown role is refused with the known ones."""
    return admin.grant_role(session, username=username, role=role, actor=user.username)


@router.delete(
    "/admin/users/{username}/roles/{role}", response_model=UserOut, responses=responses(401, 403, 404, 422)
)
def revoke_role(username: Name, role: RoleName, user: AdminUser, session: SessionDep) -> UserOut:
    """Revoke a role (404 if the user does not have it)."""
    return admin.revoke_role(session, username=username, role=role, actor=user.username)


@router.post(
    "/admin/users/{username}/password",
    response_model=PasswordReset,
    responses=responses(401, 403, 404, 409, 422),
)
def reset_password(
    username: Name, user: AdminUser, session: SessionDep, settings: SettingsDep
) -> PasswordReset:
    """Set a random temporary password (in this answer only) that the user must change at their next
    sign-in; it also lifts a lock. 409 for LDAP, OIDC and service accounts."""
    _row, temporary = accounts.set_password(
        session, settings, username=username, actor=user.username, lang=user.language
    )
    return PasswordReset(username=username, temporary_password=temporary)


@router.get("/admin/audit", response_model=list[AdminEventOut], responses=responses(401, 403, 422))
def admin_audit(
    _auditor: Auditor,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=80, description="Only this actor's actions.")] = None,
    action: Annotated[AuditAction | None, Query(description="Only this kind of action.")] = None,
    target: Annotated[str | None, Query(max_length=200, description="Only actions on this target.")] = None,
    since: Annotated[datetime | None, Query(description="Only actions at or after this instant.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only events older than this id (paging).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AdminEventOut]:
    """The admin audit trail, newest first (roles admin or auditor): who created, changed or
    deactivated users, granted or revoked roles, changed groups, issued or revoked tokens, reset
    passwords, published definitions. It never holds a secret."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    rows = audit.events(
        session, actor=actor, action=action, target=target, since=since, before_id=before, limit=limit
    )
    return [
        AdminEventOut(
            id=r.id or 0, at=r.at, actor=r.actor, action=r.action, target=r.target, details=r.details
        )
        for r in rows
    ]
