"""Bodies of the identity endpoints (api/routes/identity.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from api.schemas import Body, Language, Username, UtcDatetime


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
    "delegation.created",
    "delegation.revoked",
    "cmdb.unauthorised_edit",
]


def _bounded_instant(value: datetime) -> datetime:
    """An instant in UTC between 2000 and 2100: a far-off year would overflow the conversion to UTC
    (year 1 at +14:00) or the database's column."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if not (_EARLIEST <= value < _LATEST):
        raise ValueError("must be between 2000-01-01 and 2100-01-01 (UTC)")
    return value


_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
Instant = Annotated[datetime, AfterValidator(_bounded_instant)]


class CreateDelegation(Body):
    substitute: Username = Field(description="Who decides your approvals while you are away.")
    ends_at: Instant = Field(
        description="When the delegation ends (exclusive); at most a year after it starts."
    )
    starts_at: Instant | None = Field(default=None, description="When it begins; now if left out.")
    reason: str | None = Field(default=None, max_length=500, description="Why (shown to the substitute).")
    principal: Username | None = Field(
        default=None,
        description="Whose approvals (admins only: set a delegation for someone); yourself if left out.",
    )


class DelegationOut(BaseModel):
    id: int
    principal: str = Field(description="The approver whose approvals the substitute may decide.")
    substitute: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    reason: str | None = None
    created_by: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None
    revoked_by: str | None = None
    in_force: bool = Field(description="Whether the substitute may decide for the principal right now.")
