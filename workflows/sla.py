"""SLA clocks: business-time targets that run, pause and stop with the record's state.

A clock never stores "time left": it stores the business time consumed up to its last resume and
the instant it resumed. Every threshold deadline is then an absolute instant computed in the clock's
calendar, so pausing, resuming or re-prioritising simply recomputes the deadlines, and a workflow
that replays or continues-as-new lands on exactly the same instants.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from definitions.calendar import BusinessCalendar, add_business_time, business_time_between
from definitions.model import Definition, SlaDef
from workflows.contracts import SlaClockState, SlaView

ALWAYS = BusinessCalendar(always=True, timezone="UTC")
BREACH_AT = 100.0
# A clock whose targets are per support group is an operational-level clock (OLA) of the group the
# record is with: it restarts when the record moves to another group (workflows/engine/sla_clocks.py).
GROUP_FIELD = "assignment_group"


def is_ola(sla: SlaDef) -> bool:
    return sla.target_field == GROUP_FIELD


def key_of(sla: SlaDef, fields: dict[str, object]) -> str | None:
    """The value of the clock's target field: which target it runs on."""
    value = fields.get(sla.target_field)
    return None if value is None else str(value)


def calendar_of(definition: Definition, name: str | None) -> BusinessCalendar:
    if name is None:
        return ALWAYS
    return definition.calendars.get(name, ALWAYS)


def target_for(sla: SlaDef, fields: dict[str, object]) -> tuple[float | None, str | None]:
    """The target (seconds) and calendar name that apply to a record with these field values."""
    key = fields.get(sla.target_field)
    key_text = None if key is None else str(key)
    target = sla.targets.get(key_text) if key_text is not None else None
    if target is None:
        target = sla.default_target
    if target is None:
        return None, None
    calendar = sla.calendars.get(key_text or "", sla.calendar)
    return target.total_seconds(), calendar


def consumed(definition: Definition, clock: SlaClockState, now: datetime) -> float:
    """Business seconds the clock has consumed up to `now`."""
    total = clock.consumed_seconds
    if clock.status == "running" and clock.resumed_at is not None:
        cal = calendar_of(definition, clock.calendar)
        total += business_time_between(cal, clock.resumed_at, now).total_seconds()
    return total


def deadline_at(definition: Definition, clock: SlaClockState, percent: float) -> datetime | None:
    """The absolute instant the clock reaches `percent` of its target, if it is running."""
    if clock.status != "running" or clock.target_seconds is None or clock.resumed_at is None:
        return None
    remaining = clock.target_seconds * percent / 100.0 - clock.consumed_seconds
    if remaining <= 0:
        return clock.resumed_at
    cal = calendar_of(definition, clock.calendar)
    return add_business_time(cal, clock.resumed_at, timedelta(seconds=remaining))


def thresholds_of(sla: SlaDef) -> list[float]:
    """Threshold percentages in order, always including the breach at 100 %."""
    return sorted({t.at for t in sla.thresholds} | {BREACH_AT})


def next_due(definition: Definition, sla: SlaDef, clock: SlaClockState) -> tuple[datetime, float] | None:
    for percent in thresholds_of(sla):
        if percent in clock.fired:
            continue
        at = deadline_at(definition, clock, percent)
        return (at, percent) if at is not None else None
    return None


def start(
    definition: Definition, sla: SlaDef, clock: SlaClockState, fields: dict[str, object], now: datetime
) -> bool:
    """Start or resume the clock; False when no target applies (e.g. the priority is not set yet)."""
    if clock.status == "running":
        return False
    target, calendar = target_for(sla, fields)
    if target is None:
        return False
    clock.target_seconds, clock.calendar = target, calendar
    clock.target_key = key_of(sla, fields)
    clock.started_at = clock.started_at or now
    clock.resumed_at = now
    clock.stopped_at = None
    clock.status = "running"
    return True


def pause(definition: Definition, clock: SlaClockState, now: datetime) -> bool:
    if clock.status != "running":
        return False
    clock.consumed_seconds = consumed(definition, clock, now)
    clock.resumed_at = None
    clock.status = "paused"
    return True


def stop(definition: Definition, clock: SlaClockState, now: datetime) -> bool:
    if clock.status not in ("running", "paused"):
        return False
    clock.consumed_seconds = consumed(definition, clock, now)
    clock.resumed_at = None
    clock.stopped_at = now
    clock.status = "stopped"
    if clock.target_seconds is not None and clock.consumed_seconds >= clock.target_seconds:
        clock.breached = True
    return True


def retarget(
    definition: Definition, sla: SlaDef, clock: SlaClockState, fields: dict[str, object], now: datetime
) -> bool:
    """Apply a new target after the priority changed; consumed time is kept, deadlines move."""
    target, calendar = target_for(sla, fields)
    if target is not None:
        clock.target_key = key_of(sla, fields)
    if target is None or (target == clock.target_seconds and calendar == clock.calendar):
        return False
    if clock.status == "running":
        clock.consumed_seconds = consumed(definition, clock, now)
        clock.resumed_at = now
    clock.target_seconds, clock.calendar = target, calendar
    # Thresholds not yet reached under the new target may fire again later; reached ones stay fired.
    return True


def _fmt(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return out + ("T" + time if time else ("" if days else "T0S"))


def view(definition: Definition, sla: SlaDef, clock: SlaClockState, now: datetime) -> SlaView:
    used = consumed(definition, clock, now)
    target = clock.target_seconds
    breached = clock.breached or (target is not None and clock.status == "running" and used >= target)
    if breached:
        state = "breached"
    elif clock.status == "stopped":
        state = "met"
    else:
        state = clock.status
    label = sla.label.model_dump() if sla.label else None
    return SlaView(
        name=sla.name,
        label=label,
        target=_fmt(target) if target is not None else None,
        due_at=deadline_at(definition, clock, BREACH_AT),
        state=state,
        elapsed=_fmt(used),
        remaining=_fmt(max(0.0, target - used)) if target is not None else None,
        elapsed_percent=round(100.0 * used / target, 1) if target else None,
        agreement=clock.agreement,
        agreement_version=clock.agreement_version,
        target_field=sla.target_field,
        target_key=clock.target_key,
        ola=is_ola(sla),
    )
