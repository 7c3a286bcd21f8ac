"""The data that crosses the workflow boundary: inputs, results, snapshots, audit events.

Every workflow entry point, update and activity takes one of these models and returns one, so the
pydantic data converter carries them through Temporal and the API reuses them as response shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from definitions.loader import SharedPinnedDefinition


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Actor(Contract):
    """Who acts: the API fills this from the authenticated user (roles and groups from the directory)."""

    username: str
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    language: str = "en"

    @classmethod
    def system(cls, reason: str = "engine") -> Actor:
        return cls(username=f"system:{reason}", roles=["system"])

    @property
    def is_system(self) -> bool:
        return self.username.startswith("system:")


class AuditEvent(Contract):
    """One row of the append-only audit trail; `seq` is unique per record and makes writes idempotent."""

    seq: int
    at: datetime
    actor: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    comment: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class SlaClockState(Contract):
    name: str
    status: Literal["pending", "running", "paused", "stopped"] = "pending"
    breached: bool = False
    target_seconds: float | None = None
    calendar: str | None = None
    consumed_seconds: float = 0.0
    started_at: datetime | None = None
    resumed_at: datetime | None = None
    stopped_at: datetime | None = None
    fired: list[float] = Field(default_factory=list)
    # The value of the clock's target field it runs on (a priority; a support group for an OLA clock).
    target_key: str | None = None
    # The service level agreement (key, version) whose targets it runs on; None: the definition's.
    agreement: str | None = None
    agreement_version: int | None = None


class Decision(Contract):
    by: str = Field(description="The approver whose decision this is (counted by the policy).")
    decision: Literal["approve", "reject"]
    substitute: str | None = Field(
        default=None, description="Who decided, when a substitute decided for `by` (a delegation)."
    )
    delegation: int | None = Field(default=None, description="The delegation the substitute acted under.")
    comment: str | None = None
    at: datetime


class ApprovalTask(Contract):
    id: str
    step: str
    level: int
    level_name: str
    state: Literal["resolving", "pending", "approved", "rejected", "expired", "cancelled"] = "resolving"
    policy: str
    needed: int = 1
    eligible: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    excluded: dict[str, str] = Field(default_factory=dict, description="user -> separation-of-duties rule")
    decisions: list[Decision] = Field(default_factory=list)
    opened_at: datetime
    deadline: datetime | None = None
    reminders_sent: int = 0
    escalated: bool = False
    closed_at: datetime | None = None


class Attachment(Contract):
    """A file attached to a record (issue 20): what it is; the bytes stay in the attachment store, found
    by their SHA-256, never in Temporal. Who added it and when are its audit event's."""

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: str | None = Field(default=None, max_length=64)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=200)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class RecordState(Contract):
    """Everything a record is; carried across continue-as-new."""

    record_id: str
    number: str
    state: str
    fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    entered_state_at: datetime
    seq: int = 0
    slas: dict[str, SlaClockState] = Field(default_factory=dict)
    approvals: list[ApprovalTask] = Field(default_factory=list)
    approval_counter: int = 0
    links: list[dict[str, str]] = Field(default_factory=list)
    # Timed transitions already due in the current state (fired or skipped): each is due once per entry.
    timed_done: list[str] = Field(default_factory=list)
    applied_requests: list[str] = Field(default_factory=list)
    # Audit events written to the read model but not yet sealed there: those of the latest workflow
    # task (which Temporal may still discard) and any earlier one not yet re-asserted. The next write
    # sends them again; the ones the workflow knows committed are sealed (see persist_record).
    unsealed: list[AuditEvent] = Field(default_factory=list)
    # The seq of the workflow's last successful write of the read model (0: none yet).
    written_seq: int = 0
    # Unused: a count of comments nobody read. Accepted because records carried across continue-as-new
    # before it was dropped (and their recorded inputs) hold it.
    comments: int = 0
    # The SLA alarm last handed to the worker's alarm clock (SlaAlarm.key), so it is armed once.
    armed_alarm: str | None = None
    # The first response: when the record first left its initial state (docs/sla.md).
    responded_at: datetime | None = None
    # The files attached to the record (issue 20), metadata only: `requires_attachment` reads their kinds.
    attachments: list[Attachment] = Field(default_factory=list)


class StartProcessInput(Contract):
    record_id: str
    number: str
    definition: SharedPinnedDefinition
    actor: Actor
    title: str
    fields: dict[str, Any] = Field(default_factory=dict)
    parent_id: str | None = None
    history_limit: int = Field(
        default=10_000, ge=20, description="Continue-as-new once the run's history is longer than this."
    )
    # Set only by continue-as-new: the record as it was.
    carried: RecordState | None = None
    # Deprecated: only runs started by version 0.5 carry it (1). Such a run took the workflow changes
    # made before 0.5 without recording their patch markers (see ProcessWorkflow._patched); nothing
    # sets it any more, and continue-as-new drops it.
    code_version: int = Field(
        default=0, ge=0, description="Deprecated: 1 on runs started by version 0.5; ignored otherwise."
    )


class FireTransitionInput(Contract):
    actor: Actor
    trigger: str
    fields: dict[str, Any] = Field(default_factory=dict)
    comment: str | None = None
    # The records whose `act_on_linked` effects led to this action, first to last: an action that would
    # come back to one of them (a loop across processes) is refused (activities/linked_actions.py).
    chain: list[str] = Field(default_factory=list, max_length=16)


class UpdateFieldsInput(Contract):
    actor: Actor
    fields: dict[str, Any]
    comment: str | None = None


class DecideApprovalInput(Contract):
    actor: Actor
    approval_id: str
    decision: Literal["approve", "reject"]
    comment: str | None = None
    # The approver the actor decides for, as their substitute. The workflow does not take the
    # caller's word for the delegation: it looks it up itself (`check_delegation`) before deciding.
    on_behalf_of: str | None = Field(default=None, max_length=64)


class AddCommentInput(Contract):
    actor: Actor
    body: str = Field(min_length=1, max_length=20000)


class AddAttachmentInput(Contract):
    actor: Actor
    attachment: Attachment
    comment: str | None = Field(default=None, max_length=20000)


class SnapshotQuery(Contract):
    actor: Actor | None = None


class FieldSpec(Contract):
    name: str
    type: str
    required: bool = False
    values: list[str] | None = None
    label: dict[str, str] | None = None
    editable: bool = Field(
        default=True,
        description="Whether the caller may change this field here (field rights, separation of duties); "
        "a field they may not change can still be required: its current value is kept.",
    )
    reference: str | None = Field(
        default=None, description="A reference field: the process (definition key) whose record it names."
    )
    reference_states: list[str] | None = Field(
        default=None,
        description="A checked reference field: the states the named record must be in (list them with "
        "GET /api/v1/processes?definition=…&state=…).",
    )
    items: list[dict[str, Any]] | None = Field(
        default=None,
        description="A checklist field: its items (key, label, expected result), answered "
        "{key: {result: pass|fail|n/a, note}}.",
    )


class AvailableTransition(Contract):
    trigger: str
    to: str
    label: dict[str, str] | None = None
    required_fields: list[FieldSpec] = Field(default_factory=list)
    comment_required: bool = False


class SlaView(Contract):
    name: str
    label: dict[str, str] | None = None
    target: str | None
    due_at: datetime | None
    state: Literal["pending", "running", "paused", "met", "breached"]
    elapsed: str
    remaining: str | None
    elapsed_percent: float | None = None
    agreement: str | None = Field(
        default=None, description="The service level agreement whose target the clock runs on (its key)."
    )
    agreement_version: int | None = Field(default=None, description="That agreement's version.")
    target_field: str | None = Field(
        default=None, description="The field the target is chosen by: `priority`, or `assignment_group`."
    )
    target_key: str | None = Field(
        default=None, description="The value the target is chosen for: the priority, or the support group."
    )
    ola: bool = Field(
        default=False,
        description="An operational-level clock of the support group the record is with: it starts "
        "anew when the record moves to another group.",
    )


class RecordSnapshot(Contract):
    id: str
    number: str
    definition: str
    definition_version: int
    definition_hash: str
    title: str
    state: str
    state_label: dict[str, str] | None = None
    state_category: str
    final: bool
    fields: dict[str, Any]
    priority: str | None = None
    requester: str | None = None
    assignee: str | None = None
    assignment_group: str | None = None
    created_at: datetime
    updated_at: datetime
    responded_at: datetime | None = Field(
        default=None, description="The first response: when the record first left its initial state."
    )
    slas: list[SlaView] = Field(default_factory=list)
    approvals: list[ApprovalTask] = Field(default_factory=list)
    available_transitions: list[AvailableTransition] = Field(default_factory=list)
    hidden_fields: list[str] = Field(default_factory=list)
    readonly_fields: list[str] = Field(default_factory=list)
    editable_fields: list[str] = Field(
        default_factory=list,
        description="The fields the caller may change now by an edit (PATCH): field rights, separation "
        "of duties, the state's read-only and hidden fields applied. Empty when nobody asked.",
    )
    links: list[dict[str, str]] = Field(default_factory=list)
    seq: int = 0


# --- activity inputs ---------------------------------------------------------------------------


class ResolveApproversInput(Contract):
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)


class ResolveApproversResult(Contract):
    users: list[str]


class CheckDelegationInput(Contract):
    principal: str
    substitute: str
    at: datetime


class CheckDelegationResult(Contract):
    delegation: int | None = Field(default=None, description="The delegation in force, if any.")


class ResolveReferencesInput(Contract):
    refs: list[str] = Field(description="Record ids or numbers, as the reference fields hold them.")
    processes: list[str] = Field(default_factory=list, description="Definition keys to word refusals with.")
    cis: list[int] = Field(default_factory=list, description="CMDB ids the `ci` fields name.")
    ci_classes: list[str] = Field(default_factory=list, description="CMDB classes to word refusals with.")


class ReferencedRecord(Contract):
    """What the read model says of a record a reference names."""

    ref: str
    id: str
    number: str
    definition: str
    state: str


class ReferencedProcess(Contract):
    """The words of a referenced process (its newest published version): title and state labels."""

    key: str
    title: dict[str, str]
    states: dict[str, dict[str, str]] = Field(default_factory=dict)


class ReferencedCi(Contract):
    """What the CMDB says of a CI a `ci` field names, with its class's words for refusals."""

    id: int
    name: str
    class_name: str
    class_label: dict[str, str] = Field(default_factory=dict)
    retired: bool = False


class ResolveReferencesResult(Contract):
    found: list[ReferencedRecord] = Field(default_factory=list)
    processes: list[ReferencedProcess] = Field(default_factory=list)
    cis: list[ReferencedCi] = Field(default_factory=list)
    class_labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="The words of the classes the `ci` fields allow."
    )


class NotificationRecipient(Contract):
    kind: Literal["user", "group", "group_lead", "role"]
    name: str


class NotifyInput(Contract):
    key: str = Field(description="Idempotency key: record id + audit seq + index")
    record_id: str
    template_name: str
    subject: dict[str, str]
    body: dict[str, str]
    recipients: list[NotificationRecipient]
    context: dict[str, Any] = Field(default_factory=dict)


class PersistRecordInput(Contract):
    snapshot: RecordSnapshot
    # Every audit event not yet sealed in the read model, in order: the events of earlier workflow
    # tasks that were not re-asserted yet, then this change's. The stored rows from the first of them
    # on are made equal to these (rows a discarded workflow task left there are replaced).
    events: list[AuditEvent]
    # The record's sequence number when the current workflow task began: everything up to it is in
    # Temporal's history for good, so those rows are sealed; above it, rows are still open (a retry of
    # this task may replace them). Also the write's fence: a write from an older task never lands.
    committed_seq: int = 0
    # The record's seq as this workflow last wrote it (None: not known, e.g. a run that began before
    # it was sent). With it, the usual write checks the stored tail by its digest instead of reading it.
    written_seq: int | None = None
    # Recorded in the same transaction as the change that caused them (an outbox): in-app inbox
    # notifications are complete once written; e-mail and webhooks are sent by the `notify` activity.
    notifications: list[NotifyInput] = Field(default_factory=list)
    # What the record's `ci` fields name now (field -> CMDB ids), for the CI index (`record_cis`);
    # None for a definition without `ci` fields, whose writes leave the index alone.
    cis: dict[str, list[int]] | None = None


class ApplyCiChangesInput(Contract):
    record_id: str
    actor: str = Field(description="Who the CI versions name: the change's implementer or the system.")


class CiChangeFailure(Contract):
    id: int = Field(description="The proposal's id.")
    en: str
    zh: str
    issues: list[str] = Field(default_factory=list)


class ApplyCiChangesResult(Contract):
    applied: list[int] = Field(default_factory=list, description="Proposal ids applied (now or before).")
    failed: list[CiChangeFailure] = Field(default_factory=list)


class PersistRecordResult(Contract):
    deliver: list[str] = Field(
        default_factory=list, description="Keys of the notifications with e-mail or webhooks still to send"
    )


class ArmAlarmInput(Contract):
    """Notifications for the worker's alarm clock to deliver at `at`, if the record is still at `seq`."""

    at: datetime
    record_id: str
    seq: int
    notifications: list[NotifyInput]


class NotifyResult(Contract):
    delivered: int
    failed: int


class CreateLinkedRecordInput(Contract):
    key: str
    parent_id: str
    parent_number: str
    definition: str
    title: str
    fields: dict[str, Any]
    back_link_field: str | None = None
    actor: Actor


class CreateLinkedRecordResult(Contract):
    record_id: str
    number: str
