"""What the schedules API reads and answers (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

CatchUp = Literal["once", "skip"]
RunStatus = Literal["started", "skipped", "refused"]

RULE_DESCRIPTION = (
    "The recurrence rule (docs/schedules.md): `{kind: workdays, at: '09:00'}` every working day; "
    "`{kind: month_first_workday, at: '09:00'}` the first working day of each month; "
    "`{kind: quarter_first_workday, at: '09:00'}` the first working day of each quarter; "
    "`{kind: every_days, every: 90, start: '2027-01-04', at: '10:00'}`; "
    "`{kind: yearly, month: 3, day: 1, at: '09:00'}`. `at` is local time in the calendar's timezone."
)


class ScheduleIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What people call the schedule.")
    definition: str = Field(min_length=1, max_length=64, description="The key of a published definition.")
    title: str = Field(min_length=1, max_length=200, description="The title of each record started.")
    fields: dict[str, Any] = Field(default_factory=dict, description="The fields each record starts with.")
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION)
    calendar: str | None = Field(
        default="china_business",
        max_length=64,
        description="The shared business calendar whose working days the rule counts; null: every day "
        "is a working day (in `timezone`).",
    )
    timezone: str = Field(
        default="Asia/Shanghai", max_length=64, description="Only without a calendar: the rule's timezone."
    )
    catch_up: CatchUp = Field(
        default="once",
        description="After downtime: `once` starts the last missed occurrence once (older ones are "
        "recorded as skipped); `skip` starts none of them.",
    )
    owner: str | None = Field(
        default=None,
        max_length=64,
        description="The user responsible for the schedule (default: the caller).",
    )
    paused: bool = Field(default=False, description="Create it paused.")


class SchedulePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    fields: dict[str, Any] | None = None
    catch_up: CatchUp | None = None
    owner: str | None = Field(default=None, max_length=64)


class ScheduleOut(BaseModel):
    id: str
    name: str
    definition: str
    title: str
    fields: dict[str, Any]
    rule: dict[str, Any]
    calendar: str | None
    timezone: str
    catch_up: CatchUp
    owner: str
    paused: bool
    deleted: bool
    created_by: str
    created_at: datetime
    next_runs: list[datetime] = Field(description="The next occurrences (UTC); empty when paused or deleted.")
    temporal_schedule_id: str = Field(description="The Temporal Schedule that fires it (Temporal UI).")


class ScheduleRunOut(BaseModel):
    scheduled_at: AwareDatetime = Field(description="The occurrence (UTC).")
    ran_at: AwareDatetime
    status: RunStatus
    reason: str | None = Field(description="`late`, `superseded` (skipped) or the rule family (refused).")
    message: str | None = Field(description="Why, in the caller's language.")
    record_id: str | None
    number: str | None
