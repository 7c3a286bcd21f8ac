"""The Temporal Schedule behind each itilflow schedule of records (docs/schedules.md).

A Temporal Schedule fires at calendar instants in a timezone; it knows nothing of 调休 make-up days or
holidays. So its spec fires on every day the rule *could* fire, at the rule's local time, and the
`ScheduledRun` workflow's activity keeps only the business-calendar occurrences:
- `workdays`, `every_days`, `month_first_workday`: every day;
- `quarter_first_workday`: every day of January, April, July and October;
- `yearly`: the rule's month and day.
Temporal keeps it durable and visible (Temporal UI → Schedules), pauses it and catches up missed
firings (within `CATCHUP_WINDOW`) after the server was down; the activity applies the schedule's own
catch-up policy to late runs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from definitions.recurrence import Recurrence
from workflows.scheduled_run import (
    RUN_WORKFLOW_PREFIX,
    ScheduledRunInput,
    ScheduledRunWorkflow,
    temporal_schedule_id,
)

CATCHUP_WINDOW = timedelta(days=30)
_QUARTER_MONTHS = (ScheduleRange(1), ScheduleRange(4), ScheduleRange(7), ScheduleRange(10))


def spec_for(rule: Recurrence, timezone: str) -> ScheduleSpec:
    """The instants Temporal fires at: every day the rule could fire, at its local time."""
    month: tuple[ScheduleRange, ...] = (ScheduleRange(1, 12),)
    day: tuple[ScheduleRange, ...] = (ScheduleRange(1, 31),)
    if rule.kind == "quarter_first_workday":
        month = _QUARTER_MONTHS
    elif rule.kind == "yearly":
        assert rule.month is not None and rule.day is not None  # checked by parse_recurrence
        month, day = (ScheduleRange(rule.month),), (ScheduleRange(rule.day),)
    at = rule.at
    calendar = ScheduleCalendarSpec(
        second=(ScheduleRange(at.second),),
        minute=(ScheduleRange(at.minute),),
        hour=(ScheduleRange(at.hour),),
        day_of_month=day,
        month=month,
        comment=f"itilflow recurrence {rule.kind}",
    )
    return ScheduleSpec(calendars=[calendar], time_zone_name=timezone)


async def create(
    client: Client,
    schedule_id: str,
    rule: Recurrence,
    timezone: str,
    *,
    task_queue: str,
    paused: bool,
    note: str,
) -> None:
    action = ScheduleActionStartWorkflow(
        ScheduledRunWorkflow.run,
        ScheduledRunInput(schedule_id=schedule_id),
        id=f"{RUN_WORKFLOW_PREFIX}{schedule_id}",
        task_queue=task_queue,
    )
    schedule = Schedule(
        action=action,
        spec=spec_for(rule, timezone),
        # Runs are short and independent: a late one never holds up the next occurrence.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(paused=paused, note=note),
    )
    await client.create_schedule(temporal_schedule_id(schedule_id), schedule)


async def pause(client: Client, schedule_id: str, note: str) -> None:
    await client.get_schedule_handle(temporal_schedule_id(schedule_id)).pause(note=note)


async def resume(client: Client, schedule_id: str, note: str) -> None:
    await client.get_schedule_handle(temporal_schedule_id(schedule_id)).unpause(note=note)


async def delete(client: Client, schedule_id: str) -> None:
    """Delete the Temporal Schedule; one already gone is not an error (a retried delete)."""
    try:
        await client.get_schedule_handle(temporal_schedule_id(schedule_id)).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
