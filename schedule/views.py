"""What the schedule API reads and answers (pydantic)."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from definitions.shared_calendars import SharedCalendar

Kind = Literal["freeze", "maintenance"]
Scope = Literal["all", "services", "ci_classes", "cis"]
Severity = Literal["block", "ecab"]


class WindowIn(BaseModel):
    kind: Kind
    title_en: str = Field(min_length=1, max_length=200, description="The window's name in English.")
    title_zh: str = Field(min_length=1, max_length=200, description="The window's name in Chinese.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    scope: Scope = Field(
        default="all",
        description="all CIs; `services`: CI ids of business services (and every CI they rely on); "
        "`ci_classes`: CI class names; `cis`: CI ids.",
    )
    scope_values: list[int | str] = Field(default_factory=list, max_length=1000)
    severity: Severity = Field(
        default="block",
        description="Freeze windows: `block` refuses every change; `ecab` admits an emergency change the "
        "ECAB approved.",
    )


class WindowOut(WindowIn):
    id: int
    created_by: str
    created_at: datetime
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None


class CheckIn(BaseModel):
    planned_start: AwareDatetime
    planned_end: AwareDatetime
    cis: list[int] = Field(default_factory=list, max_length=1000, description="The change's CI ids.")
    emergency_ecab_approved: bool = Field(
        default=False, description="An emergency change the ECAB approved (passes `ecab` freezes)."
    )
    require_maintenance_window: bool = Field(
        default=False, description="Each CI must have a maintenance window covering the planned window."
    )


class ViolationOut(BaseModel):
    rule: Literal["freeze", "outside_maintenance"]
    window_id: int | None = Field(description="The freeze window refusing it (none: no maintenance window).")
    ci_id: int | None = None
    message: str = Field(description="In the caller's language, naming the window.")


class CheckOut(BaseModel):
    allowed: bool
    violations: list[ViolationOut]


class ConflictOut(BaseModel):
    rule: Literal["ci_overlap", "implementer", "freeze", "outside_maintenance"]
    other: str | None = Field(default=None, description="The other change's number, or none for a window.")
    message: str = Field(description="In the caller's language.")


class ScheduledChange(BaseModel):
    number: str
    title: str
    process: str = Field(description="The definition's key.")
    state: str
    planned_start: datetime
    planned_end: datetime
    implementer: str | None = None
    assignment_group: str | None = None
    cis: list[int]
    conflicts: list[ConflictOut]


class ScheduleOut(BaseModel):
    changes: list[ScheduledChange] = Field(description="Records with a planned window in the range.")
    windows: list[WindowOut] = Field(description="Freeze and maintenance windows in the range.")
    truncated: bool = Field(description="More records were in the range than one answer lists.")


class FeedIn(BaseModel):
    kind: Literal["user", "group", "ci"] = Field(
        description="`user`: changes you implement; `group`: an assignment group of yours; `ci`: a CI's."
    )
    target: str = Field(
        min_length=1, max_length=64, description="Your username, a group of yours, or a CI id."
    )


class FeedOut(BaseModel):
    id: str
    kind: str
    target: str
    created_at: datetime
    revoked_at: datetime | None = None
    path: str | None = Field(
        default=None, description="The feed's URL path with its secret: answered once, when created."
    )


class AgendaItem(BaseModel):
    number: str
    title: str
    state: str
    state_label: str = Field(description="The state's label in the caller's language.")
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    late: bool = Field(default=False, description="Its planned start is not after its meeting.")
    conflicts: list[str] = Field(default_factory=list, description="Its conflicts, in the caller's language.")


class AgendaMeeting(BaseModel):
    date: date_type
    changes: list[AgendaItem]


class CalendarStatus(BaseModel):
    process: str = Field(description="The definition's key.")
    calendar: str
    shared: str | None = Field(default=None, description="The shared calendar it names, if any.")
    declared_until: date_type | None = Field(description="Its last declared holiday or make-up working day.")
    warning: bool = Field(description="Declared until less than 60 days from today (or never).")
    message_en: str | None = None
    message_zh: str | None = None


class SharedCalendarIn(BaseModel):
    """A new version of a shared calendar: the whole calendar as in its file, less its name."""

    calendar: dict[str, Any] = Field(
        description="`label` {zh, en}, `timezone`, `weekly` {mon: ['09:00-12:00', …], …}, `workday_hours`, "
        "`always`, `holidays_from` {country, subdivision, years}, local `holidays` and `workdays` "
        "(ISO dates)",
        examples=[
            {
                "label": {"zh": "工作时间", "en": "Business hours"},
                "timezone": "Asia/Shanghai",
                "weekly": {d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                "holidays_from": {"country": "CN", "years": [2025, 2026, 2027]},
                "holidays": ["2026-12-31"],
                "workdays": [],
            }
        ],
    )
    note: str = Field(min_length=1, max_length=500, description="Why: kept with the version.")


class SharedCalendarOut(BaseModel):
    name: str
    version: int = Field(description="0: the shipped file; higher: an administrator's version.")
    calendar: SharedCalendar
    holidays: list[date_type] = Field(description="Every holiday: the source's and the local ones.")
    workdays: list[date_type] = Field(description="Every make-up working day (调休).")
    declared_until: date_type | None
    warning: bool = Field(description="True when the holidays run out within 60 days (or already have).")
    message_en: str | None = None
    message_zh: str | None = None


class RecordScheduleOut(BaseModel):
    """A record's place in the change schedule now: its planned window, what the windows say of it and
    its conflicts with the other planned changes the caller may see."""

    number: str
    planned_start: datetime | None = Field(description="None: the record has no planned window (yet).")
    planned_end: datetime | None = None
    cis: list[int] = Field(description="The CIs its `ci` fields name.")
    violations: list[ConflictOut] = Field(
        description="Freezes it falls in (and missing maintenance windows)."
    )
    conflicts: list[ConflictOut] = Field(description="Overlaps on the same or related CIs, the implementer.")


class AgendaSendIn(BaseModel):
    group: str = Field(
        default="cab", min_length=1, max_length=64, description="The CAB's group: its active members."
    )
    states: list[str] = Field(
        default_factory=lambda: ["cab_review", "major_review", "ecab_review"],
        min_length=1,
        max_length=20,
        description="The states awaiting the CAB (the shipped change's).",
    )
    weekday: int = Field(default=4, ge=1, le=7, description="The meeting day: 1 Monday … 7 Sunday.")
    weeks: int = Field(default=1, ge=1, le=8, description="How many meetings ahead the agenda covers.")


class AgendaSendOut(BaseModel):
    workflow_id: str = Field(description="The Temporal workflow that delivers the messages.")
    recipients: list[str] = Field(description="The members the agenda goes to.")
    meetings: list[date_type]
    changes: int = Field(description="Changes on the agenda as the sender sees it.")
