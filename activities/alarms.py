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
from workflows.contracts import ArmAlarmInput

log = logging.getLogger("itilflow.alarms")


# Alarms ringing together are checked and recorded together: one query for their records' seqs and one
# transaction for their notification rows per batch, instead of two transactions per alarm. 10,000
# deadlines in the same second took ~100 s one by one on two cores (bench/scale.py); batches of this
# size keep each transaction short enough that a failing one costs little (the timers deliver it).
BATCH = 250
THREADS = 4


class AlarmClock:
    def __init__(self, engine: Engine, notes: NotificationActivities) -> None:
        self.engine = engine
        self.notes = notes
        self._armed: dict[str, asyncio.TimerHandle] = {}
        self._due: list[ArmAlarmInput] = []
        self._flush_scheduled = False
        # Its own threads: an alarm must not queue behind long-running activities.
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=THREADS, thread_name_prefix="alarm"
        )

    @activity.defn(name="arm_alarm")
    async def arm_alarm(self, inp: ArmAlarmInput) -> None:
        loop = asyncio.get_running_loop()
        old = self._armed.pop(inp.record_id, None)
        if old is not None:
            old.cancel()  # the record changed: its newer alarm replaces this one
        delay = max(0.0, (inp.at - datetime.now(UTC)).total_seconds())
        self._armed[inp.record_id] = loop.call_later(delay, self._ring, inp)

    @property
    def armed(self) -> int:
        return len(self._armed)

    def _ring(self, inp: ArmAlarmInput) -> None:
        self._armed.pop(inp.record_id, None)
        self._due.append(inp)
        if not self._flush_scheduled:
            # Every alarm the event loop rings in this pass joins the batch (call_soon runs after them).
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        due, self._due = self._due, []
        loop = asyncio.get_running_loop()
        for i in range(0, len(due), BATCH):
            future = loop.run_in_executor(self._executor, self.deliver_batch, due[i : i + BATCH])
            future.add_done_callback(lambda f: f.cancelled() or f.exception())

    def deliver(self, inp: ArmAlarmInput) -> int:
        """One alarm (see deliver_batch)."""
        return self.deliver_batch([inp])

    def deliver_batch(self, batch: list[ArmAlarmInput]) -> int:
        """Send the notifications of the alarms whose records are still as they were armed; returns
        how many alarms rang.

        Never raises: whatever fails here, the durable timer's notify activity retries."""
        try:
            ids = [inp.record_id for inp in batch]
            with self.engine.connect() as conn:
                rows = conn.execute(select(RECORDS.c.id, RECORDS.c.seq).where(RECORDS.c.id.in_(ids)))
                seqs: dict[str, int] = {str(r[0]): int(r[1]) for r in rows}
            ringing = []
            for inp in batch:
                if seqs.get(inp.record_id) == inp.seq:
                    log.debug("alarm for %s rang at seq %s", inp.record_id, inp.seq)
                    ringing.append(inp)
                else:
                    log.info(
                        "alarm for %s stands down: record changed (seq %s -> %s)",
                        inp.record_id,
                        inp.seq,
                        seqs.get(inp.record_id),
                    )
            self.notes.deliver_many([note for inp in ringing for note in inp.notifications])
            return len(ringing)
        except Exception as exc:  # noqa: BLE001 - logged; the timer path delivers instead
            log.warning("%d alarms not delivered (the SLA timers will): %s", len(batch), exc)
            return 0
