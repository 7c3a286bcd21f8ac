"""SQLModel tables: the read model, the audit trail, the directory and the definition store.

Temporal owns a running record's truth; these tables are what people search, report and audit, and
they outlive the workflow histories (the dev server keeps closed executions only 24 hours).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class DefinitionRow(SQLModel, table=True):
    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=64)
    version: int
    status: str = Field(default="draft", max_length=16)  # draft | published | retired
    source: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=80)
    title_en: str = ""
    title_zh: str = ""
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    published_by: str | None = None
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_by: str | None = None
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Four-eyes publishing: a draft whose publication a process owner asked for, waiting for another.
    publication_requested_by: str | None = Field(default=None, max_length=64)
    publication_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DefinitionEventRow(SQLModel, table=True):
    __tablename__ = "definition_events"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)
    version: int
    action: str
    actor: str
    at: datetime = Field(sa_type=UTCDateTime)


class RecordRow(SQLModel, table=True):
    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_def_state", "definition_key", "state"),
        Index("ix_records_updated", "updated_at"),
        # Reports count the records created in a period (migration 0014_report_indexes).
        Index("ix_records_created", "created_at"),
        Index("ix_records_def_created", "definition_key", "created_at"),
        Index("ix_records_sla_due", "sla_due_at", "id"),  # migration 0019
    )

    id: str = Field(primary_key=True, max_length=64)
    number: str = Field(unique=True, max_length=32)
    definition_key: str = Field(max_length=64)
    definition_version: int
    title: str = ""
    state: str
    state_category: str
    priority: str | None = Field(default=None, index=True)
    requester: str | None = Field(default=None, index=True)
    assignee: str | None = Field(default=None, index=True)
    assignment_group: str | None = Field(default=None, index=True)
    final: bool = False
    breached: bool = False
    fields: dict[str, Any] = _json()
    snapshot: dict[str, Any] = _json()
    seq: int = 0
    # What Temporal has committed of this record, as of its last write: audit rows up to it are sealed
    # (the triggers refuse to change them), and a write from an older workflow task than the last
    # writer's (one Temporal gave up on) changes nothing (activities/records.py).
    committed_seq: int = 0
    # A digest of the audit rows the last write left open (above committed_seq): a write that expects
    # exactly these appends without reading them back (activities/records.py).
    open_digest: str = Field(default="", max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first response: the record's first change of state (docs/sla.md; migration 0013).
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the first running customer clock breaches (migration 0019): the agents' "breaching soon".
    sla_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecordCiRow(SQLModel, table=True):
    """Which configuration items a record's `ci` fields name now: impact analysis and a CI's page find
    the records on a CI here (an index), not by reading every record's fields. Written with the record
    row, in the same transaction, from what the workflow sends (activities/records.py)."""

    __tablename__ = "record_cis"

    record_id: str = Field(primary_key=True, max_length=64)
    field: str = Field(primary_key=True, max_length=64)
    ci_id: int = Field(primary_key=True, index=True)


class RecordWindowRow(SQLModel, table=True):
    """A record's planned window (`planned_start`, `planned_end`) as instants: the change schedule and
    the workflow's conflict check find the records planned over a period here (an index), not by
    reading every record's JSON fields. `duration_s` is indexed so that the longest window bounds the
    search from below (docs/schedule.md). Written with the record row (activities/records.py)."""

    __tablename__ = "record_windows"
    __table_args__ = (Index("ix_record_windows_starts_at", "starts_at"),)

    record_id: str = Field(primary_key=True, max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    duration_s: int = Field(index=True)


def aware_instant(value: Any) -> datetime | None:
    """A field's ISO 8601 date-time with its offset, or None (not text, malformed, or no offset)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def planned_window(fields: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """The planned window a record's fields hold, when both ends are aware ISO 8601 and in order."""
    start, end = aware_instant(fields.get("planned_start")), aware_instant(fields.get("planned_end"))
    return (start, end) if start is not None and end is not None and start < end else None


class AuditRow(SQLModel, table=True):
    """Append-only: database triggers refuse every UPDATE, and every DELETE of a sealed row.

    A row is sealed once Temporal has committed the workflow task that wrote it: its seq is at most
    its record's `committed_seq`. Until then the record's next write may delete it, if Temporal
    discarded that task (activities/records.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("record_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(index=True, max_length=64)
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    action: str = Field(index=True)
    from_state: str | None = None
    to_state: str | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text))
    details: dict[str, Any] = _json()
    # sha256 of the event's canonical JSON (first 32 hex digits): how a later write recognises it.
    digest: str | None = Field(default=None, max_length=32)


class ApprovalRow(SQLModel, table=True):
    __tablename__ = "approvals"

    id: str = Field(primary_key=True, max_length=80)
    record_id: str = Field(index=True, max_length=64)
    step: str
    level: int
    level_name: str
    state: str = Field(index=True)
    policy: str
    needed: int
    opened_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    data: dict[str, Any] = _json()


class ApprovalApproverRow(SQLModel, table=True):
    __tablename__ = "approval_approvers"

    approval_id: str = Field(primary_key=True, max_length=80)
    username: str = Field(primary_key=True, max_length=64, index=True)


class NotificationRow(SQLModel, table=True):
    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    record_id: str = Field(index=True, max_length=64)
    template: str
    channel: str
    recipient: str
    address: str | None = None
    language: str = "en"
    subject: str = ""
    body: str = Field(default="", sa_column=Column(Text))
    status: str = "pending"  # pending | sent | failed | skipped
    error: str | None = None
    attempts: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    username: str = Field(primary_key=True, max_length=64)
    display_name: str = ""
    email: str | None = None
    language: str = "zh"
    roles: list[str] = _json()
    active: bool = True
    service_account: bool = False
    password_hash: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Where the user signs in: local (a password here, or tokens only), ldap or oidc (api/identity/).
    auth_source: str = Field(default="local", max_length=16)
    external_id: str | None = Field(default=None, max_length=255)  # the LDAP DN or the OIDC `sub`
    must_change_password: bool = False
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AdminEventRow(SQLModel, table=True):
    """What administrators did to the directory and the definitions: append-only (database triggers
    refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE). Never holds a secret."""

    __tablename__ = "admin_events"
    __table_args__ = (Index("ix_admin_events_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(index=True, max_length=80)
    action: str = Field(index=True, max_length=40)
    target: str = Field(default="", max_length=200)
    details: dict[str, Any] = _json()


class DelegationRow(SQLModel, table=True):
    """An approver (`principal`) names a `substitute` who may decide their approvals from `starts_at`
    until `ends_at`. Never deleted: a revoked one keeps when and by whom, so an old decision "for"
    someone can always be traced to the delegation that allowed it."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_substitute_ends", "substitute", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    principal: str = Field(index=True, max_length=64)
    substitute: str = Field(max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=80)


class GroupRow(SQLModel, table=True):
    __tablename__ = "groups"

    name: str = Field(primary_key=True, max_length=64)
    label: str = ""
    lead: str | None = None


class MembershipRow(SQLModel, table=True):
    __tablename__ = "memberships"

    group: str = Field(primary_key=True, max_length=64)
    username: str = Field(primary_key=True, max_length=64, index=True)


class TokenRow(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    username: str = Field(index=True)
    name: str = ""
    secret_hash: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=200)
    username: str = Field(primary_key=True, max_length=64)
    request_hash: str
    status_code: int | None = None
    response: dict[str, Any] | None = _json(nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class NumberSequenceRow(SQLModel, table=True):
    __tablename__ = "number_sequences"

    prefix: str = Field(primary_key=True, max_length=8)
    last: int = 0


class NumberAssignmentRow(SQLModel, table=True):
    """Which number a record got: allocation is idempotent per record id."""

    __tablename__ = "number_assignments"

    record_id: str = Field(primary_key=True, max_length=64)
    number: str = Field(unique=True, max_length=32)
