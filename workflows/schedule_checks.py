"""The change-schedule check of a transition (`schedule_check` in the definition): the workflow asks
the read model (a local activity, `check_schedule`, recorded in the history so a replay meets the
same answer) whether the planned window falls in a freeze, outside its CIs' maintenance windows, or
clashes with other planned changes, before the transition applies.

No patch marker: only transitions that declare a `schedule_check` ask, and no definition had one
before this existed."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.calls import DB_RETRY, DB_TIMEOUT
    from workflows.engine.schedule_checks import ScheduleCheckInput, ScheduleCheckResult


async def check(inp: ScheduleCheckInput) -> ScheduleCheckResult:
    result: ScheduleCheckResult = await workflow.execute_local_activity(
        "check_schedule",
        inp,
        result_type=ScheduleCheckResult,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return result
