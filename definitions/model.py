"""The process definition language: what a process owner writes in YAML.

A definition is data. These pydantic models give it its shape (and the JSON Schema editors use);
`definitions.validate` then checks what a schema cannot: that names refer to things that exist,
that every state is reachable and can be left, that quorums are possible, and so on.

Design choices worth knowing:
- Effects, guards and approver specs are single models with optional keys and an "exactly one of"
  rule instead of pydantic unions: a union reports every alternative's errors, which buries the one
  a process owner needs to read.
- Durations are ISO 8601 (`PT4H`, `P3D`); pydantic parses them into `timedelta`.
- Human-facing text is bilingual (`{zh: ..., en: ...}`); a plain string is accepted for both.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from definitions.calendar import BusinessCalendar
from definitions.checklist import ChecklistItem
from definitions.model_base import (
    BUILTIN_FIELDS as BUILTIN_FIELDS,
)
from definitions.model_base import (
    BUILTIN_ROLES as BUILTIN_ROLES,
)
from definitions.model_base import (
    NAME_PATTERN as NAME_PATTERN,
)
from definitions.model_base import (
    RELATIONS as RELATIONS,
)
from definitions.model_base import (
    ApprovalPolicy as ApprovalPolicy,
)
from definitions.model_base import (
    FieldType as FieldType,
)
from definitions.model_base import (
    GuardOp as GuardOp,
)
from definitions.model_base import (
    I18nText as I18nText,
)
from definitions.model_base import (
    Model as Model,
)
from definitions.model_base import (
    Name as Name,
)
from definitions.model_base import (
    StateCategory as StateCategory,
)
from definitions.model_parts import (
    ActOnLinkedSpec as ActOnLinkedSpec,
)
from definitions.model_parts import (
    CounterDef as CounterDef,
)
from definitions.model_parts import (
    DateOffset as DateOffset,
)
from definitions.model_parts import (
    GroupRef as GroupRef,
)
from definitions.model_parts import (
    NotificationTemplate as NotificationTemplate,
)
from definitions.model_parts import (
    PriorityMatrix as PriorityMatrix,
)
from definitions.model_parts import (
    RescheduleCheck as RescheduleCheck,
)
from definitions.model_parts import (
    ScheduleCheck as ScheduleCheck,
)
from definitions.model_parts import (
    Visibility as Visibility,
)


class FieldDef(Model):
    """A typed field of a record."""

    name: Name
    type: FieldType
    label: I18nText | None = None
    values: list[str] | None = Field(default=None, description="Allowed values of an enum field.")
    value_labels: dict[str, I18nText] | None = None
    reference: str | None = Field(default=None, description="Definition key a reference field points at.")
    reference_states: list[Name] | None = Field(
        default=None,
        description="States the referenced record must be in (a reference field only). With it, the "
        "engine itself checks every value set: a record of `reference`, in one of these states.",
    )
    ci_classes: list[Name] | None = Field(
        default=None,
        description="CMDB classes a `ci` field (or a list of `ci`) may name; any class when not given. "
        "Every CI a record names is checked by the engine: it exists, is not retired, is of these classes.",
    )
    item_type: FieldType | None = Field(default=None, description="Type of the items of a list field.")
    default: Any = None
    required: bool = Field(default=False, description="Required when the record is created.")
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, ge=1)
    description: I18nText | None = None
    items: list[ChecklistItem] | None = Field(
        default=None,
        description="The items of a checklist field, each with its expected result (issue 20); answered "
        "pass / fail / n/a with a note. Guards read FIELD.unanswered and FIELD.failed.",
    )


class StateDef(Model):
    """A state of the lifecycle with its category and per-state field flags."""

    name: Name
    category: StateCategory
    label: I18nText | None = None
    final: bool = False
    required: list[str] = Field(default_factory=list, description="Fields that must be set in this state.")
    readonly: list[str] = Field(default_factory=list, description="Fields that cannot be changed here.")
    hidden: list[str] = Field(default_factory=list, description="Fields not shown in this state.")
    description: I18nText | None = None


class Guard(Model):
    """A structured predicate on the record's fields (no code is ever evaluated).

    Either a comparison (`field` + `op` + `value`/`value_field`) or a combination (`all`, `any`, `not`).
    """

    field: str | None = None
    op: GuardOp | None = None
    value: Any = None
    value_field: str | None = Field(
        default=None,
        description="Compare with another field instead; `now` (the moment of the action) and `created_at` "
        "(the record's creation) are dates every record has.",
    )
    offset: DateOffset | None = Field(
        default=None, description="Compare dates: the right-hand date moved by this much (notice periods)."
    )
    all: list[Guard] | None = None
    any: list[Guard] | None = None
    not_: Guard | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Guard:
        combos = [x for x in (self.all, self.any, self.not_) if x is not None]
        if combos and self.field is not None:
            raise ValueError("a guard is either a comparison (field/op) or one of all/any/not, not both")
        if len(combos) > 1:
            raise ValueError("a guard takes only one of all/any/not")
        if not combos:
            if self.field is None or self.op is None:
                raise ValueError("a comparison needs both 'field' and 'op'")
            if self.op not in ("is_set", "is_empty") and self.value is None and self.value_field is None:
                raise ValueError(f"operator '{self.op}' needs 'value' or 'value_field'")
            if self.offset is not None and self.op not in ("gt", "ge", "lt", "le", "eq", "ne"):
                raise ValueError(f"an offset moves a date to compare: operator '{self.op}' compares no dates")
        return self


Recipient = Annotated[
    str,
    Field(
        pattern=r"^(requester|assignee|assignment_group|group_lead|actor|(user|group|role|field):[A-Za-z0-9_.@-]+)$",
        description="requester, assignee, assignment_group, group_lead, actor, user:NAME, group:NAME, "
        "role:NAME or field:FIELD",
    ),
]


class NotifySpec(Model):
    template: Name
    to: list[Recipient] = Field(min_length=1)


class CreateRecordSpec(Model):
    """Start a linked record of another (or the same) process."""

    definition: Name
    title: str | None = Field(default=None, description="Title template, e.g. 'Problem for {{number}}'.")
    fields: dict[str, Any] = Field(default_factory=dict, description="Values; '$field:x' copies field x.")
    link_field: str | None = Field(default=None, description="Field of this record that gets the new id.")
    back_link_field: str | None = Field(default=None, description="Field of the new record set to our id.")


class ApplyCiChangesSpec(Model):
    """Apply the CI changes proposed on this record to the CMDB (a change, once implemented and
    verified); every CI version made names the record's number."""

    done_field: str | None = Field(
        default=None, description="A bool field set true when every proposed CI change applied."
    )


class RecordOutageSpec(Model):
    """Record the service interruption a record reports as an outage of its service (issue 21,
    docs/sla.md): while the flag is on, the start field is filled with the moment it was set (or the
    record's creation) unless a person entered it; the effect records the outage from that start to now."""

    flag: str = Field(description="A bool field: the record reports a service interruption.")
    start_field: str = Field(description="A datetime field: when the interruption began.")
    service_field: str = Field(default="service", description="The field naming the service interrupted.")


class EscalateSpec(Model):
    """Raise a support level field one step, e.g. L1 -> L2 -> L3, optionally reassigning the group."""

    field: str = "support_level"
    levels: list[str] = Field(min_length=2)
    groups: dict[str, str] = Field(default_factory=dict, description="Assignment group per level.")


class Effect(Model):
    """One thing that happens when a transition fires or an SLA threshold is crossed (exactly one key)."""

    set: dict[str, Any] | None = Field(
        default=None, description="Field values; '$now', '$actor' and '$field:x' are substituted."
    )
    notify: NotifySpec | None = None
    start_sla: str | None = None
    stop_sla: str | None = None
    create_record: CreateRecordSpec | None = None
    escalate: EscalateSpec | None = None
    reassign: str | None = Field(default=None, description="Assign the record to this group.")
    fire: str | None = Field(default=None, description="Fire this transition (SLA thresholds only).")
    increment: str | None = Field(
        default=None, description="Add one to this counter (a name under `counters`)."
    )
    act_on_linked: ActOnLinkedSpec | None = Field(
        default=None, description="Fire a transition on the records a reference field names."
    )
    apply_ci_changes: ApplyCiChangesSpec | None = None
    record_outage: RecordOutageSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Effect:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            keys = ", ".join(type(self).model_fields)
            raise ValueError(f"an effect takes exactly one of {keys}; got {given or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)


class Permission(Model):
    """Who may fire a transition: anyone matching any of the lists."""

    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    relations: list[str] = Field(
        default_factory=list,
        description="requester, assignee, assignment_group (a member of it) or field:FIELD (a user field).",
    )

    def is_empty(self) -> bool:
        return not (self.roles or self.groups or self.users or self.relations)


class FieldRight(Model):
    """Who may change some fields, in some states: for those fields there, it replaces `editors` (edits)
    and also binds values sent with a transition. Several rules on one field: any of them admits."""

    fields: list[str] = Field(min_length=1, description="The fields the rule covers.")
    states: list[str] = Field(default_factory=list, description="Where it applies (empty: every state).")
    editors: Permission = Field(description="Who may change them there: roles, groups, users, relations.")
    label: I18nText | None = Field(default=None, description="The rule in words, quoted when it refuses.")


class TransitionDef(Model):
    """A transition: a trigger that moves a record from one of `from` to `to`."""

    trigger: Name
    from_: list[str] = Field(alias="from", min_length=1, description="Source states; '*' is any non-final.")
    to: str
    label: I18nText | None = None
    allowed: Permission | None = Field(
        default=None, description="Who may fire it. Omitted: only the engine (timers, approvals, SLAs)."
    )
    guard: Guard | None = None
    guard_message: I18nText | None = Field(
        default=None, description="Why it is refused when the guard fails."
    )
    required_fields: list[str] = Field(default_factory=list)
    schedule_check: ScheduleCheck | None = Field(default=None, description="Check the change schedule first.")
    comment_required: bool = False
    effects: list[Effect] = Field(default_factory=list)
    after: timedelta | None = Field(
        default=None, description="Timed transition: fires this long after entering the source state."
    )
    calendar: str | None = Field(default=None, description="Calendar `after` counts in (default 7x24).")
    requires_attachment: list[Name] = Field(
        default_factory=list,
        description="Kinds of attachment (the definition's attachment_kinds) the record must carry first.",
    )

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ApproverSpec(Model):
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list, description="User, group or list fields of the record.")

    def is_empty(self) -> bool:
        return not (self.users or self.groups or self.roles or self.fields)


class ApprovalLevel(Model):
    """One level of an approval step; levels run in order, each must approve."""

    name: Name
    label: I18nText | None = None
    approvers: ApproverSpec
    policy: ApprovalPolicy = "any"
    quorum: int | None = Field(default=None, description="Approvals needed with policy quorum.")
    percentage: float | None = Field(default=None, description="Share of approvers needed (0-100].")


class SeparationOfDuties(Model):
    """Who may never decide this approval, whatever groups they are in."""

    exclude: list[str] = Field(
        default_factory=list, description="requester, assignee or field:FIELD (e.g. field:builder)."
    )


ExpiryAction = Literal["reject", "approve", "escalate", "fire"]


class ApprovalStep(Model):
    """An approval that opens when the record enters `state` and fires a transition when decided."""

    name: Name
    label: I18nText | None = None
    state: str
    levels: list[ApprovalLevel] = Field(min_length=1)
    separation_of_duties: SeparationOfDuties = Field(default_factory=SeparationOfDuties)
    deadline: timedelta | None = None
    calendar: str | None = None
    reminders: list[timedelta] = Field(default_factory=list, description="Reminders, counted from opening.")
    remind_template: str | None = None
    escalate_to: list[Recipient] = Field(default_factory=list)
    on_expiry: ExpiryAction = "escalate"
    expiry_trigger: str | None = Field(default=None, description="Transition fired on expiry with 'fire'.")
    on_approved: str = Field(description="Trigger fired when every level approved.")
    on_rejected: str = Field(description="Trigger fired when a level rejects.")


class SlaThreshold(Model):
    at: float = Field(gt=0, description="Percent of the target, e.g. 75 or 100.")
    label: I18nText | None = None
    actions: list[Effect] = Field(default_factory=list)


class SlaDef(Model):
    """A clock with a target per priority (or another field) that runs, pauses and stops with states."""

    name: Name
    label: I18nText | None = None
    target_field: str = "priority"
    targets: dict[str, timedelta] = Field(min_length=1, description="Target per value of target_field.")
    default_target: timedelta | None = None
    calendar: str | None = Field(default=None, description="Calendar for every target (default 7x24).")
    calendars: dict[str, str] = Field(default_factory=dict, description="Calendar per target_field value.")
    runs_in: list[str] = Field(min_length=1)
    pauses_in: list[str] = Field(default_factory=list)
    stops_in: list[str] = Field(min_length=1)
    thresholds: list[SlaThreshold] = Field(default_factory=list)


class Definition(Model):
    """A whole process definition."""

    key: Name
    title: I18nText
    description: I18nText | None = None
    number_prefix: str = Field(pattern=r"^[A-Z]{2,6}$")
    owner: str = Field(min_length=1)
    version_note: str | None = None
    labels: list[str] = Field(default_factory=list, description="Free tags for search.")
    roles: dict[str, I18nText] = Field(default_factory=dict, description="Roles beyond the built-in ones.")
    calendars: dict[str, BusinessCalendar] = Field(default_factory=dict)
    priority_matrix: PriorityMatrix | None = None
    fields: list[FieldDef] = Field(default_factory=list)
    counters: list[CounterDef] = Field(
        default_factory=list,
        description="Counters of each record (start at 0, changed by `increment` effects).",
    )
    initial_state: str | None = Field(default=None, description="Default: the first state.")
    states: list[StateDef] = Field(min_length=1)
    transitions: list[TransitionDef] = Field(default_factory=list)
    approvals: list[ApprovalStep] = Field(default_factory=list)
    slas: list[SlaDef] = Field(default_factory=list)
    reschedule_check: RescheduleCheck | None = Field(
        default=None, description="Check the change schedule when the planned window is edited."
    )
    notifications: dict[str, NotificationTemplate] = Field(default_factory=dict)
    editors: Permission = Field(
        default_factory=lambda: Permission(
            roles=["agent", "admin"], relations=["requester", "assignee", "assignment_group"]
        ),
        description="Who may change fields outside transitions (read-only flags still apply).",
    )
    field_rights: list[FieldRight] = Field(
        default_factory=list, description="Who may change which fields in which states (beyond editors)."
    )
    start_roles: list[str] = Field(
        default_factory=lambda: ["agent", "integrator", "requester", "admin"],
        description="Roles that may start a record of this process.",
    )
    requester_form: list[str] | None = Field(
        default=None,
        max_length=100,
        description="The fields, in order, that someone who may start this process only as a requester "
        "sees on the web page's new-record form (a self-service portal's form); others see every start "
        "field. It must hold every field a new record requires.",
    )
    attachment_kinds: dict[Name, I18nText] = Field(
        default_factory=dict,
        description="Kinds of attachment a record of this process may carry (e.g. drill_report), by label.",
    )
    visibility: Visibility | None = Field(
        default=None,
        description="Restrict who sees this process's records: participants plus these roles and groups "
        "(without it, the global rule: admin, process_owner, agent and auditor see every record).",
    )

    # Convenience look-ups (not part of the language).
    def state(self, name: str) -> StateDef | None:
        return next((s for s in self.states if s.name == name), None)

    def field(self, name: str) -> FieldDef | None:
        found = next((f for f in self.fields if f.name == name), None)
        if found is None and self.counters:
            # A counter reads as an integer field of its name (guards, labels, value checks).
            counter = next((c for c in self.counters if c.name == name), None)
            if counter is not None:
                return FieldDef(
                    name=name, type="int", label=counter.label, min=0, description=counter.description
                )
        return found

    def is_counter(self, name: str) -> bool:
        return any(c.name == name for c in self.counters)

    def field_type(self, name: str) -> FieldType | None:
        found = self.field(name)
        if found is not None:
            return found.type
        return BUILTIN_FIELDS.get(name)

    @property
    def initial(self) -> str:
        return self.initial_state or self.states[0].name

    def final_states(self) -> set[str]:
        return {s.name for s in self.states if s.final}

    def sources(self, transition: TransitionDef) -> list[str]:
        """The concrete source states of a transition ('*' = every non-final state)."""
        if "*" in transition.from_:
            return [s.name for s in self.states if not s.final]
        return list(transition.from_)

    def all_roles(self) -> set[str]:
        return set(BUILTIN_ROLES) | set(self.roles)


Guard.model_rebuild()
