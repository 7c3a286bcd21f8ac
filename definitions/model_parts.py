"""Sections of a definition that stand on their own: the priority matrix, notification templates and
the visibility section (re-exported by `definitions.model`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from definitions.model_base import I18nText, Model


class PriorityMatrix(Model):
    """impact x urgency -> priority, applied whenever impact or urgency change."""

    impact_field: str = "impact"
    urgency_field: str = "urgency"
    priority_field: str = "priority"
    matrix: dict[str, dict[str, str]] = Field(description="impact -> urgency -> priority.")

    def lookup(self, impact: Any, urgency: Any) -> str | None:
        if impact is None or urgency is None:
            return None
        return self.matrix.get(str(impact), {}).get(str(urgency))


class NotificationTemplate(Model):
    subject: I18nText
    body: I18nText


GroupRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length=1, max_length=64)]


class Visibility(Model):
    """Who may see a process's records, when not every agent should (data-access requests, security
    incidents). With this section, a record is seen only by its participants — the requester, the
    assignee, anyone named in a user field, and the approvers of its approvals (asked, deciding, or
    deciding as someone's substitute) — and by holders of `roles` and members of `groups`. The roles
    that otherwise see every record (admin, process_owner, agent, auditor) see it only if listed."""

    roles: list[str] = Field(
        default_factory=list, description="Roles whose holders see every record of this process."
    )
    groups: list[GroupRef] = Field(
        default_factory=list, description="Groups whose members see every record of this process."
    )


class DateOffset(Model):
    """How far from the compared date a guard looks: one amount, in calendar or working time.

    `working_days: 20` (with the `calendar` to count in) is "20 working days later": the same local time
    on the 20th working day after the date; `working_hours` counts business time as SLA clocks do."""

    days: int | None = Field(default=None, ge=-3650, le=3650)
    hours: int | None = Field(default=None, ge=-87600, le=87600)
    working_days: int | None = Field(default=None, ge=-2000, le=2000)
    working_hours: int | None = Field(default=None, ge=0, le=20000)
    calendar: str | None = Field(default=None, description="The calendar working days and hours count in.")

    @model_validator(mode="after")
    def _one_amount(self) -> DateOffset:
        given = [
            n for n in ("days", "hours", "working_days", "working_hours") if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError("an offset takes exactly one of days, hours, working_days, working_hours")
        if given[0].startswith("working") and self.calendar is None:
            raise ValueError(f"{given[0]} count in a calendar: name it with `calendar`")
        return self

    @property
    def unit(self) -> str:
        return next(
            n for n in ("days", "hours", "working_days", "working_hours") if getattr(self, n) is not None
        )

    @property
    def amount(self) -> int:
        value = getattr(self, self.unit)
        assert isinstance(value, int)
        return value


class ScheduleCheck(Model):
    """Check the change schedule when this transition fires (docs/schedule.md): the planned window
    against the freeze windows (always refused inside one; an `ecab` freeze admits a change for which
    `ecab_approved` holds), against the maintenance windows of its CIs when `maintenance_window`, and
    against the other planned changes (the same or related CIs, the implementer booked twice), which
    warn (an audit entry) or block, as `conflicts` says."""

    start: str = Field(default="planned_start", description="The datetime field holding the planned start.")
    end: str = Field(default="planned_end", description="The datetime field holding the planned end.")
    cis: str | None = Field(default="cis", description="The ci (or list of ci) field naming its CIs.")
    implementer: str | None = Field(default="implementer", description="The user field of who does it.")
    maintenance_window: bool = Field(
        default=False, description="Each CI needs a maintenance window around it."
    )
    conflicts: Literal["warn", "block"] = "warn"
    ecab_approved: Any = Field(
        default=None,
        description="A guard: when it holds, the change is an emergency the ECAB approved, which `ecab` "
        "freezes admit.",
    )


class RescheduleCheck(ScheduleCheck):
    """Check the change schedule again when a person changes the planned window, the CIs or the
    implementer of a record in one of `states` (rescheduling after submission or approval)."""

    states: list[str] = Field(min_length=1, description="The states in which an edit is checked.")


class CounterDef(Model):
    """A counter of a record (times reopened, drills run): an integer that starts at 0 and that only the
    process changes, by `increment` effects. Guards and conditions read it like a field of its name;
    the KPI report totals it over the records of a period."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    label: I18nText | None = None
    description: I18nText | None = None
    source: str | None = Field(
        default=None, description="The clause the counter serves (shown with its KPI)."
    )


class ActOnLinkedSpec(Model):
    """Fire a transition on the records a reference field names (issue 20): a resolved problem resumes its
    waiting incidents, a completed change moves the incident that raised it. Each linked record moves
    through its own workflow and rules; what it refuses is recorded on this record, not forced."""

    field: str = Field(description="A reference field, or a list of references, naming the linked records.")
    trigger: str = Field(description="The transition to fire on each linked record (its own trigger name).")
    fields: dict[str, Any] = Field(default_factory=dict, description="Values the transition is fired with.")
    comment: str | None = Field(default=None, max_length=2000, description="A comment left with the action.")
