"""What ProcessWorkflow hands to activities, and how long and how often it lets them try.

The read-model write and the directory look-up are short database calls: local activities run them in
the worker without a task round trip through the server, which is most of an Update's latency. They
are idempotent, so a crash between running one and recording it only repeats it harmlessly.
"""

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from workflows.contracts import NotifyInput
from workflows.engine import NotifyRequest, Refusal

DB_TIMEOUT = timedelta(seconds=10)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=20,  # about an hour: rides out a mail-server restart
)
MAX_REMEMBERED_REQUESTS = 500
# How long before an SLA deadline its notifications are handed to the worker's alarm clock. A burst
# of coinciding deadlines is then worked through ahead of time (about 20 ms of CPU per record across
# worker and server), and at the deadline only the sending is left: 30 s covers ~2,500 at once here.
ALARM_LEAD = timedelta(seconds=30)
# Since `patches.ALARM_LEAD_10M`: 10,000 coinciding deadlines need about a minute of arming on two cores
# (bench/scale.py), far beyond 30 s; ten minutes covers ~200,000. Alarms wait in the worker's memory
# (a few kB each); a worker that dies with them loses nothing (the durable timers deliver, 3 s late).
ALARM_LEAD_LONG = timedelta(minutes=10)
ALARM_GRACE = timedelta(seconds=3)
ALARM_RETRY = RetryPolicy(maximum_attempts=2)


def refused(refusal: Refusal) -> ApplicationError:
    """A refusal as the Update's failure: its type names the rule family (`RefusalKind`)."""
    return ApplicationError(
        refusal.message, {"errors": refusal.errors}, type=refusal.kind.value, non_retryable=True
    )


def notify_input(note: NotifyRequest, record_id: str, seq: int, index: int) -> NotifyInput:
    """The `notify` activity's input: keyed by the note's own identity (SLA thresholds) or by the step."""
    return NotifyInput(
        key=f"{record_id}:{note.key}" if note.key else f"{record_id}:{seq}:{index}",
        record_id=record_id,
        template_name=note.template,
        subject=note.subject,
        body=note.body,
        recipients=note.recipients,
        context=_jsonable(note.context),
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | list | dict) or v is None else str(v)
        for k, v in values.items()
    }
