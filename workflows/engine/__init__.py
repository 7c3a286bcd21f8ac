"""The process engine: a pure, deterministic interpreter of a definition for one record.

It never does I/O and never reads the clock (`now` is passed in), so it runs unchanged inside a Temporal
workflow (`workflows.process`), in unit tests and in the conformance replay. What needs the outside world
comes back as requests in an `Outcome`.

Modules, each one idea:
- `interpreter` — `ProcessEngine`: create, the `check_*` and command methods, moving a record and
  entering a state; the door to the parts below.
- `outcome` — `Outcome` and the requests it carries (`NotifyRequest`, `ResolveRequest`, `CreateRequest`,
  `SlaAlarm`).
- `refusals` — `Refusal` and `RefusalKind`, the rule families that refuse an action.
- `record` — `RecordContext`: the record and its definition, audit events, field values, permissions,
  priority.
- `moves` — which transition a trigger takes, asked of the definition's state machine, and why not.
- `field_rights` — whether a person may change a field now (separation of duties' protected fields,
  then the definition's `field_rights` or `editors`); `words` — its refusals in Chinese and English.
- `references` — checked reference fields: which values an action needs looked up (the workflow asks
  the read model), and the refusal of one naming no allowed record.
- `notifications` — recipients and template values.
- `approvals` — opening levels, resolving approvers, decisions, reminders and expiry; `policies` — the
  approval policies and separation of duties (pure functions).
- `sla_clocks` — the record's SLA clocks following its state and priority; `thresholds` — crossing an
  SLA threshold, and alarms.
- `timers` — the typed timers (SLA thresholds, reminders, deadlines, timed transitions) and firing
  what is due.
- `effects` — one handler per kind of effect.
- `views` — `available` (the guarded variant that would fire), `editable`, `field_spec`, `snapshot`.
"""

from workflows.engine.interpreter import ProcessEngine
from workflows.engine.outcome import CreateRequest, NotifyRequest, Outcome, ResolveRequest, SlaAlarm
from workflows.engine.refusals import Refusal, RefusalKind
from workflows.engine.timers import DeadlineTimer, ReminderTimer, SlaTimer, Timer, TransitionTimer

__all__ = [
    "CreateRequest",
    "DeadlineTimer",
    "NotifyRequest",
    "Outcome",
    "ProcessEngine",
    "Refusal",
    "RefusalKind",
    "ReminderTimer",
    "ResolveRequest",
    "SlaAlarm",
    "SlaTimer",
    "Timer",
    "TransitionTimer",
]
