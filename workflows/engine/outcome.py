"""What a command returns: the audit events it wrote, and what it asks of the outside world.

The engine never does I/O. Looking up approvers, sending notifications and starting linked records come
back as requests, which the workflow runs as activities and answers (`approvers_resolved`,
`linked_created`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from definitions.model import ApplyCiChangesSpec
from workflows.contracts import AuditEvent, NotificationRecipient


@dataclass
class NotifyRequest:
    template: str
    subject: dict[str, str]
    body: dict[str, str]
    recipients: list[NotificationRecipient]
    context: dict[str, Any]
    # Set when the notification has an identity of its own (SLA thresholds): the worker's alarm
    # clock and the durable timer then deliver it under the same key, so it goes out once.
    key: str | None = None


@dataclass
class SlaAlarm:
    """An SLA threshold whose only effects are notifications, due at `at` if nothing changes first.

    The workflow hands it to the worker's alarm clock ahead of time, so the notifications leave at
    the deadline even when thousands of deadlines coincide; the durable timer still fires and
    delivers whatever the alarm did not (same keys, so nothing goes out twice)."""

    at: datetime
    seq: int  # the record's sequence when armed: any change since makes the alarm stand down
    notifications: list[NotifyRequest]

    @property
    def key(self) -> str:
        return f"{self.at.isoformat()}@{self.seq}"


@dataclass
class ResolveRequest:
    """Who may decide an approval task: the directory expands groups and roles into users."""

    task_id: str
    users: list[str]
    groups: list[str]
    roles: list[str]


@dataclass
class CreateRequest:
    """A linked record to start (a `create_record` effect)."""

    definition: str
    title: str
    fields: dict[str, Any]
    link_field: str | None
    back_link_field: str | None


@dataclass
class LinkedActRequest:
    """Fire `trigger` on the linked records `targets` (an `act_on_linked` effect); `chain` is the records
    whose effects led here, this one last."""

    field: str
    trigger: str
    targets: list[str]
    fields: dict[str, Any]
    comment: str | None
    chain: list[str]


@dataclass
class CiChangesRequest:
    """Apply the CI changes proposed on the record (an `apply_ci_changes` effect), as `actor`."""

    spec: ApplyCiChangesSpec
    actor: str


@dataclass
class OutageRequest:
    """Record the service interruption the record reports as an outage (a `record_outage` effect)."""

    service: Any
    start: str
    end: str


@dataclass
class Outcome:
    events: list[AuditEvent] = field(default_factory=list)
    notifications: list[NotifyRequest] = field(default_factory=list)
    resolves: list[ResolveRequest] = field(default_factory=list)
    creates: list[CreateRequest] = field(default_factory=list)
    acts: list[LinkedActRequest] = field(default_factory=list)
    # The CI changes proposed on the record are to be applied (an `apply_ci_changes` effect).
    apply_ci_changes: CiChangesRequest | None = None
    # The outage of a service interruption is to be recorded (a `record_outage` effect).
    outages: list[OutageRequest] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.events += other.events
        self.notifications += other.notifications
        self.resolves += other.resolves
        self.creates += other.creates
        self.acts += other.acts
        self.apply_ci_changes = self.apply_ci_changes or other.apply_ci_changes
        self.outages += other.outages
