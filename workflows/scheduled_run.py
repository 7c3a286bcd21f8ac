"""One firing of a schedule of records (issue 20, docs/schedules.md).

Each itilflow schedule is a Temporal Schedule (`temporal_schedule_id`) whose action starts this small
workflow at the local time of its rule, on every day the rule could fire. The workflow hands the
occurrence to the `start_scheduled_record` activity, which decides whether that day is an occurrence
on the business calendar, applies the catch-up policy when the run is late, and starts the record
through the API's own launcher. The record id is derived from (schedule, occurrence), so a retried
activity, or a run Temporal starts twice, never starts two records.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import Contract

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
RUN_WORKFLOW_PREFIX = "itilflow-schedule-run-"
# Retried for a day: a read model or a Temporal frontend that is down for a while must not lose a run
# (the catch-up policy then decides what a late run does).
START_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


def temporal_schedule_id(schedule_id: str) -> str:
    """The Temporal Schedule of an itilflow schedule (shown in the Temporal UI under this id)."""
    return f"itilflow-schedule-{schedule_id}"


class ScheduledRunInput(Contract):
    schedule_id: str


class StartScheduledInput(Contract):
    schedule_id: str
    scheduled_at: datetime
    workflow_id: str


class StartScheduledResult(Contract):
    status: str  # started | skipped | refused | not_due | gone
    record_id: str | None = None
    number: str | None = None


def _scheduled_at(info: workflow.Info) -> datetime:
    """The occurrence this run is for: the schedule's nominal time (not the start time, which is later
    under load or after downtime). Temporal sets it as a search attribute; the workflow id ends with it
    too, which covers a server that does not index the attribute."""
    value = info.typed_search_attributes.get(SCHEDULED_START)
    if value is not None:
        return value
    suffix = info.workflow_id[-20:]  # ...-2026-12-05T01:00:00Z
    return datetime.fromisoformat(suffix.replace("Z", "+00:00"))


@workflow.defn(name="ScheduledRun")
class ScheduledRunWorkflow:
    @workflow.run
    async def run(self, inp: ScheduledRunInput) -> StartScheduledResult:
        info = workflow.info()
        started: StartScheduledResult = await workflow.execute_activity(
            "start_scheduled_record",
            StartScheduledInput(
                schedule_id=inp.schedule_id, scheduled_at=_scheduled_at(info), workflow_id=info.workflow_id
            ),
            result_type=StartScheduledResult,
            start_to_close_timeout=timedelta(minutes=2),
            schedule_to_close_timeout=timedelta(days=1),
            retry_policy=START_RETRY,
        )
        return started
