"""Bodies of the identity endpoints (api/routes/identity.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import Body, Language, UtcDatetime


class PatchMe(Body):
    language: Language | None = Field(
        default=None, description="The language of pages, e-mails and messages."
    )
    display_name: str | None = Field(default=None, min_length=1, max_length=200)


class ChangePassword(Body):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordReset(BaseModel):
    username: str
    temporary_password: str = Field(description="Shown only now: hand it over safely; it must be changed.")
    must_change_password: bool = True


class RoleOut(BaseModel):
    name: str
    label: dict[str, str] = Field(description="`{en, zh}`")
    builtin: bool = Field(description="One of itilflow's own roles (checked by the API and the pages).")
    sources: list[str] = Field(description="Published definitions (`key vN`) that declare or name it.")


class AdminEventOut(BaseModel):
    id: int
    at: UtcDatetime
    actor: str = Field(description="An admin's username, `cli:<os user>`, or `ldap` / `oidc`.")
    action: str
    target: str
    details: dict[str, Any]


AuditAction = Literal[
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "user.provisioned",
    "role.granted",
    "role.revoked",
    "group.created",
    "group.member_added",
    "group.member_removed",
    "token.issued",
    "token.revoked",
    "password.reset",
    "password.changed",
    "definition.published",
    "definition.retired",
    "definition.publication_requested",
    "definition.publication_approved",
    "definition.publication_refused",
]
