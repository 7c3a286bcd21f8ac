"""Arming ProcessWorkflow's next SLA alarm on the worker's alarm clock (activities/alarms.py).

A durable timer costs the server and the worker CPU when it fires, so a burst of coinciding deadlines
would escalate late; ALARM_LEAD_LONG ahead (ALARM_LEAD in runs from before `patches.ALARM_LEAD_10M`),
the workflow hands the notifications of its next notify-only
threshold to the worker's in-memory clock, which sends them on the dot. The durable timer stays as
the guarantee (README, "SLA alarms")."""

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import patches
    from workflows.calls import (
        ALARM_GRACE,
        ALARM_LEAD,
        ALARM_LEAD_LONG,
        ALARM_RETRY,
        DB_TIMEOUT,
        notify_input,
    )
    from workflows.contracts import ArmAlarmInput
    from workflows.engine import ProcessEngine


async def arm_next(engine: ProcessEngine, wake: datetime | None) -> datetime | None:
    """Arm the next SLA alarm once it is due within the lead; returns when to wake up next.

    Not yet armable: wake up to arm it. Armed: the alarm sends at the deadline, and the durable
    timer comes ALARM_GRACE later to record the threshold and deliver whatever the alarm did not
    (its audit event still says the deadline). Waking together with the alarm would only make
    the burst of coinciding deadlines compete with the alarm for the CPU. Any other timer due in
    between still wakes the workflow on time, and fires the alarm's threshold with it.
    The read model holds the record at the engine's seq here: every change is persisted under
    the lock this runs under, and the alarm checks that seq before sending."""
    alarm = engine.next_alarm()
    now = workflow.now()
    if alarm is None or alarm.at <= now:
        return wake
    if alarm.key != engine.record.armed_alarm:
        lead = ALARM_LEAD_LONG if workflow.patched(patches.ALARM_LEAD_10M) else ALARM_LEAD
        if alarm.at - now > lead:
            return alarm.at - lead
        record_id = engine.record.record_id
        try:
            await workflow.execute_local_activity(
                "arm_alarm",
                ArmAlarmInput(
                    at=alarm.at,
                    record_id=record_id,
                    seq=alarm.seq,
                    notifications=[
                        notify_input(n, record_id, alarm.seq, i) for i, n in enumerate(alarm.notifications)
                    ],
                ),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=ALARM_RETRY,
            )
        except ActivityError:
            # Only an accelerator: the durable timer delivers without it.
            workflow.logger.warning("SLA alarm not armed; the timer will deliver at the deadline")
            return wake
        engine.record.armed_alarm = alarm.key
    after = engine.next_wakeup(after_alarm=True)
    return min(alarm.at + ALARM_GRACE, after) if after is not None else alarm.at + ALARM_GRACE
