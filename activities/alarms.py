"""The worker's SLA alarm clock: notifications armed ahead of their deadline, sent on the dot.

A Temporal timer is durable but not free: when it fires, the server and the worker each spend
about 10 ms on the workflow task and the notify activity, so 500 deadlines falling in the same
second (every clock resuming at 09:00 on a Monday) take several seconds to work through on a
small machine, and the last escalation goes out late. The workflow therefore hands the
notifications of its next SLA threshold to this clock ALARM_LEAD ahead (workflows/process.py);
the clock keeps them in memory and, at the deadline, only has to check and send.

The durable timer still fires and runs the notify activity with the same keys, so:
- a worker that dies with armed alarms loses nothing: the timer delivers them, late;
- nothing goes out twice: notification rows are unique by key, and a row is sent by whoever claims
  it (activities/notifications.py);
- an alarm whose record changed after it was armed (paused clock, new priority, resolved, new
  assignee: any change moves the record's seq) stands down, and the workflow arms the new one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from temporalio import activity

from activities.notifications import NotificationActivities
from activities.records import RECORDS
from core.metrics import ALARM_LAG
from workflows.contracts import ArmAlarmInput

log = logging.getLogger("itilflow.alarms")


class AlarmClock:
    def __init__(self, engine: Engine, notes: NotificationActivities) -> None:
        self.engine = engine
        self.notes = notes
        self._armed: dict[str, asyncio.TimerHandle] = {}
        # Its own threads: an alarm must not queue behind long-running activities.
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="alarm")

    @activity.defn(name="arm_alarm")
    async def arm_alarm(self, inp: ArmAlarmInput) -> None:
        loop = asyncio.get_running_loop()
        old = self._armed.pop(inp.record_id, None)
        if old is not None:
            old.cancel()  # the record changed: its newer alarm replaces this one
        delay = max(0.0, (inp.at - datetime.now(UTC)).total_seconds())
        self._armed[inp.record_id] = loop.call_later(delay, self._ring, inp)

    def _ring(self, inp: ArmAlarmInput) -> None:
        self._armed.pop(inp.record_id, None)
        ALARM_LAG.observe(max(0.0, (datetime.now(UTC) - inp.at).total_seconds()))
        future = asyncio.get_running_loop().run_in_executor(self._executor, self.deliver, inp)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())

    def deliver(self, inp: ArmAlarmInput) -> int:
        """Send the alarm's notifications if the record is still as it was armed; how many sent.

        Never raises: whatever fails here, the durable timer's notify activity retries."""
        try:
            with self.engine.connect() as conn:
                seq = conn.execute(select(RECORDS.c.seq).where(RECORDS.c.id == inp.record_id)).scalar()
            if seq != inp.seq:
                log.info(
                    "alarm for %s stands down: record changed (seq %s -> %s)",
                    inp.record_id,
                    inp.seq,
                    seq,
                    extra={"workflow_id": inp.record_id},
                )
                return 0
            log.debug("alarm for %s rang at seq %s", inp.record_id, seq)
            sent = 0
            for note in inp.notifications:
                sent += self.notes.deliver(note).delivered
            return sent
        except Exception as exc:  # noqa: BLE001 - logged; the timer path delivers instead
            log.warning(
                "alarm for %s not delivered (the SLA timer will): %s",
                inp.record_id,
                exc,
                extra={"workflow_id": inp.record_id},
            )
            return 0
