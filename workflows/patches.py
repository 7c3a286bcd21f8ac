"""How far each change made to ProcessWorkflow with `workflow.patched()` is retired.

Temporal retires a patch in steps: `patched()` while a run may still replay its old path;
`deprecate_patch()` (new path only) once none can, which replays histories with or without the
marker; nothing once no run carries a marker (Temporal's Core fails a replay that meets a marker no
code asks for, unless deprecated). Version 0.5 started runs on "code generation 1"
(`StartProcessInput.code_version`) instead, which took the first three changes without markers;
generations are retired, and such runs keep their path.

- `NAMED_APPROVERS`: deprecated. It is asked only when a level names users alone; no recorded history
  (tests/fixtures/histories/) took its old path, and a run that has not opened such a level yet takes
  the new path whatever its age. The call goes once no run holds its marker.
- `SLA_ALARMS`, `NOTIFICATIONS_IN_PERSIST`: kept. Every run started before them took their old path
  at its very start (recorded: mini_rejected.json, mini_sla_breach.json), which only `patched()`
  replays; `ProcessWorkflow._patched` also says yes, without a marker, to a run started on 0.5. They,
  and the code_version field, go once no run started before 0.5, or on 0.5, remains.
- `PROTECTED_FIELDS`: kept. A person's edit or transition may no longer change a field separation of
  duties reads when it names them (the Update validators refuse it); the handler re-checks with the
  rule only in runs that recorded the marker, so a run that accepted such a change before replays it.

- `ALARM_LEAD_10M`: kept. SLA alarms are armed ten minutes ahead instead of 30 s (a burst of 10,000
  coinciding deadlines could not be armed in 30 s): the wake-up before an alarm is a durable timer, so
  a run that slept toward `deadline - 30 s` replays only with the old lead.
- `ACT_ON_LINKED`: a marker only. No run before it could carry an `act_on_linked` effect (validation
  refused the unknown effect), so its answer is not read; it marks the runs that acted on linked
  records (workflows/linked_actions.py).

The rule that only a patched handler applies is the handler's re-check: Update validators are never
replayed (a refused Update leaves no trace), so they apply every rule always.
"""

NAMED_APPROVERS = "named-approvers-without-directory"
SLA_ALARMS = "sla-alarms"
NOTIFICATIONS_IN_PERSIST = "notifications-in-persist"
PROTECTED_FIELDS = "protected-fields"
SLA_AGREEMENTS = "sla-agreements"  # issue 21: a new record runs on its agreement's targets
SLA_OLAS = "sla-olas"  # issue 21: agreement records get operational-level clocks per support group
ALARM_LEAD_10M = "alarm-lead-10m"  # issue 19: SLA alarms armed ten minutes ahead (workflows/alarm_arming.py)
ACT_ON_LINKED = "act-on-linked"  # issue 20: `act_on_linked` effects fire transitions on linked records
