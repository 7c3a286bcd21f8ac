"""Request and response bodies of the HTTP API (the record itself is `workflows.contracts.RecordSnapshot`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.problems import FieldError
from workflows.contracts import ApprovalTask, FieldSpec

# A role name; which ones exist is the role catalogue's (api/identity/roles.py, GET /admin/roles).
Role = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$", min_length=1, max_length=64)]
GroupName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length=1, max_length=64)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
Language = Literal["zh", "en"]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time the API shows carries its offset.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- records -------------------------------------------------------------------------------------------


class CreateRecord(Body):
    definition: Key = Field(
        description="Definition key, e.g. `incident`; the newest published version is used."
    )
    title: str = Field(min_length=1, max_length=500)
    fields: dict[str, Any] = Field(default_factory=dict)


class FireTransition(Body):
    trigger: str = Field(min_length=1, max_length=64)
    fields: dict[str, Any] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=20000)


class PatchRecord(Body):
    fields: dict[str, Any] = Field(min_length=1)
    comment: str | None = Field(default=None, max_length=20000)


class AddComment(Body):
    body: str = Field(min_length=1, max_length=20000)


class CommentOut(BaseModel):
    record_id: str
    number: str
    seq: int
    actor: str
    body: str
    at: UtcDatetime


class RecordSummary(BaseModel):
    id: str
    number: str
    definition: str
    definition_version: int
    title: str
    state: str
    state_category: str
    priority: str | None = None
    requester: str | None = None
    assignee: str | None = None
    assignment_group: str | None = None
    breached: bool = False
    final: bool = False
    created_at: UtcDatetime
    updated_at: UtcDatetime
    sla_due_at: UtcDatetime | None = Field(
        default=None, description="When the record's first running service-level clock breaches."
    )


class RecordPage(BaseModel):
    items: list[RecordSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class HistoryEntry(BaseModel):
    seq: int
    at: UtcDatetime
    actor: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    comment: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


# --- approvals -----------------------------------------------------------------------------------------


class Decide(Body):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=20000)
    on_behalf_of: Username | None = Field(
        default=None,
        description="Decide as the substitute of this approver (a delegation to you in force now).",
    )


class ApprovalRecord(BaseModel):
    id: str
    number: str
    title: str
    definition: str
    state: str
    state_category: str
    priority: str | None = None
    requester: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class ApprovalOut(ApprovalTask):
    """An approval task with the record it belongs to."""

    record: ApprovalRecord
    on_behalf_of: str | None = Field(
        default=None, description="In the inbox: the approver you would decide this for, as their substitute."
    )


# --- definitions ---------------------------------------------------------------------------------------


class DefinitionSource(Body):
    source: str = Field(min_length=1, max_length=1_000_000, description="The definition as YAML text.")


class DefinitionRef(BaseModel):
    key: str
    version: int
    status: Literal["draft", "published", "retired"]


class DefinitionListItem(DefinitionRef):
    title: dict[str, str]
    published_version: int | None = Field(
        description="The version new records get; null if none is published."
    )


class DefinitionOut(DefinitionRef):
    title: dict[str, str]
    hash: str
    source: str
    definition: dict[str, Any] = Field(description="The parsed definition.")
    start_fields: list[FieldSpec] = Field(description="What a new record takes: build a form from it.")
    created_by: str
    created_at: UtcDatetime
    published_by: str | None = None
    published_at: UtcDatetime | None = None
    retired_by: str | None = None
    retired_at: UtcDatetime | None = None


class DefinitionEventOut(BaseModel):
    action: str
    actor: str
    at: UtcDatetime


class DefinitionVersionOut(DefinitionRef):
    hash: str
    created_by: str
    created_at: UtcDatetime
    published_by: str | None = None
    published_at: UtcDatetime | None = None
    retired_by: str | None = None
    retired_at: UtcDatetime | None = None
    publication_requested_by: str | None = Field(
        default=None, description="Four-eyes publishing: who asked for this draft to be published."
    )
    publication_requested_at: UtcDatetime | None = None
    events: list[DefinitionEventOut]


class PublicationOut(BaseModel):
    """A request to publish a draft (four-eyes publishing)."""

    key: str
    version: int
    status: Literal["pending", "refused"] = Field(
        description="`pending`: waiting for a second process owner; `refused`: they refused it."
    )
    author: str = Field(description="Who drafted the version (may not approve).")
    requested_by: str | None = Field(description="Who asked for publication (may not approve).")
    requested_at: UtcDatetime | None = None
    refused_by: str | None = None
    reason: str | None = None


class RefusePublication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=1000, description="Why, for the one who asked.")


class ValidationOut(BaseModel):
    valid: bool
    errors: list[FieldError]


# --- identity ------------------------------------------------------------------------------------------


class UserOut(BaseModel):
    username: str
    display_name: str
    email: str | None
    language: str
    roles: list[str]
    groups: list[str]
    active: bool
    service_account: bool
    created_at: UtcDatetime
    auth_source: Literal["local", "ldap", "oidc"] = Field(
        default="local", description="Where the user signs in: a local password (or tokens only), LDAP, OIDC."
    )
    must_change_password: bool = Field(default=False, description="A temporary password is set.")
    locked_until: UtcDatetime | None = Field(default=None, description="Locked after wrong passwords until.")
    last_login_at: UtcDatetime | None = None


class CreateUser(Body):
    username: Username
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    language: Language = "zh"
    roles: list[Role] = Field(min_length=1)
    groups: list[GroupName] = Field(default_factory=list)
    service_account: bool = False


class PatchUser(Body):
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    language: Language | None = None
    roles: list[Role] | None = Field(default=None, min_length=1)
    groups: list[GroupName] | None = None
    active: bool | None = None


class CreateGroup(Body):
    name: GroupName
    label: str = Field(default="", max_length=200)
    lead: Username | None = None


class GroupOut(BaseModel):
    name: str
    label: str
    lead: str | None
    members: list[str]


class CreateToken(Body):
    username: Username
    name: str = Field(default="", max_length=200, description="A label, e.g. `monitoring integration`.")


class TokenOut(BaseModel):
    id: str
    username: str
    name: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself; shown only now, store it safely.")


class HealthWarning(BaseModel):
    kind: Literal["calendar"] = Field(
        description="`calendar`: a calendar in use runs out of declared holidays."
    )
    message_en: str
    message_zh: str


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    temporal: str
    database: str
    warnings: list[HealthWarning] = Field(
        default_factory=list,
        description="What still works but needs an administrator soon (the status stays ok): a business "
        "calendar in use whose holidays run out within 60 days.",
    )
