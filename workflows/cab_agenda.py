"""Sending the CAB agenda to the CAB's members (issue 18; 003 §11.2: communicate the change schedule).
The API prepares one message per member — the agenda as that member may see it, in both languages —
and starts this workflow, whose id carries the request's idempotency key; it hands each message to the
`notify` activity (the same outbox and retries as every notification: a row per delivery, keyed, so
a retried activity never sends twice)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.calls import NOTIFY_RETRY
    from workflows.contracts import Contract, NotifyInput


class CabAgendaMailInput(Contract):
    messages: list[NotifyInput]


@workflow.defn(name="CabAgendaMail")
class CabAgendaMailWorkflow:
    @workflow.run
    async def run(self, inp: CabAgendaMailInput) -> int:
        """How many messages were delivered (the others are recorded as failed by the activity)."""
        handles = [
            workflow.start_activity(
                "notify", note, start_to_close_timeout=timedelta(seconds=30), retry_policy=NOTIFY_RETRY
            )
            for note in inp.messages
        ]
        delivered = 0
        for handle in handles:
            try:
                await handle
                delivered += 1
            except ActivityError:
                pass  # the activity recorded why; the other members still get theirs
        return delivered
