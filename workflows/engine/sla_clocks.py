"""The record's SLA clocks: started, paused and stopped as it enters states, started or stopped by
effects, and retargeted when its priority changes (the clock arithmetic is `workflows.sla`)."""

from __future__ import annotations

from datetime import datetime

from definitions.model import SlaDef
from workflows import sla as clocks
from workflows.contracts import Actor, SlaClockState
from workflows.engine.outcome import Outcome
from workflows.engine.record import RecordContext

SLA_ACTOR = "system:sla"


class SlaClocks:
    def __init__(self, ctx: RecordContext) -> None:
        self._ctx = ctx

    def definition_of(self, name: str) -> SlaDef:
        return next(s for s in self._ctx.definition.slas if s.name == name)

    def clock(self, name: str) -> SlaClockState:
        return self._ctx.record.slas.setdefault(name, SlaClockState(name=name))

    def on_enter(self, out: Outcome, state: str, now: datetime) -> None:
        """Start (or resume), pause or stop each clock as its definition says for `state`."""
        definition, fields = self._ctx.definition, self._ctx.record.fields
        for sla in definition.slas:
            clock = self.clock(sla.name)
            before = clock.status
            changed = False
            if state in sla.runs_in:
                changed = clocks.start(definition, sla, clock, fields, now)
            elif state in sla.pauses_in:
                changed = clocks.pause(definition, clock, now)
            elif state in sla.stops_in:
                changed = clocks.stop(definition, clock, now)
            if changed:
                action = {
                    "running": "sla_started" if before == "pending" else "sla_resumed",
                    "paused": "sla_paused",
                    "stopped": "sla_stopped",
                }[clock.status]
                details = {
                    "sla": sla.name,
                    "breached": clock.breached,
                    "consumed_seconds": clock.consumed_seconds,
                }
                self._ctx.event(out, now, SLA_ACTOR, action, details=details)

    def start(self, out: Outcome, name: str, actor: Actor, now: datetime) -> None:
        """Start a clock by an effect (whatever the state)."""
        sla = self.definition_of(name)
        clock = self.clock(name)
        if clocks.start(self._ctx.definition, sla, clock, self._ctx.record.fields, now):
            self._ctx.event(out, now, actor, "sla_started", details={"sla": name, "breached": clock.breached})

    def stop(self, out: Outcome, name: str, actor: Actor, now: datetime) -> None:
        """Stop a clock by an effect."""
        self.definition_of(name)
        clock = self.clock(name)
        if clocks.stop(self._ctx.definition, clock, now):
            self._ctx.event(out, now, actor, "sla_stopped", details={"sla": name, "breached": clock.breached})

    def retarget(self, out: Outcome, now: datetime) -> None:
        """Apply the targets of a new priority: a pending clock that should run starts, a running or
        paused one keeps its consumed time and moves its deadlines."""
        definition, record = self._ctx.definition, self._ctx.record
        for sla in definition.slas:
            clock = record.slas.get(sla.name)
            if clock is None or clock.status == "stopped":
                continue
            old = clock.target_seconds
            if clock.status == "pending":
                if record.state in sla.runs_in and clocks.start(definition, sla, clock, record.fields, now):
                    self._ctx.event(out, now, SLA_ACTOR, "sla_started", details={"sla": sla.name})
                continue
            if clocks.retarget(definition, sla, clock, record.fields, now):
                details = {"sla": sla.name, "from_seconds": old, "to_seconds": clock.target_seconds}
                self._ctx.event(out, now, SLA_ACTOR, "sla_retargeted", details=details)

    def follow_group(self, out: Outcome, now: datetime) -> None:
        """Operational-level clocks (targets per support group) belong to the group the record is with.
        When it moves to another group, the clock of the group it left ends (audited with the time that
        group used and whether it missed its target) and the new group's starts from zero on its own
        target, now if the record is in a state the clock runs in, else when it gets there. A clock
        that stopped (a response given) stays as it was."""
        definition, record = self._ctx.definition, self._ctx.record
        for sla in definition.slas:
            clock = record.slas.get(sla.name)
            if not clocks.is_ola(sla) or clock is None or clock.status == "stopped":
                continue
            group = clocks.key_of(sla, record.fields)
            if clock.status == "pending":
                if record.state in sla.runs_in and clocks.start(definition, sla, clock, record.fields, now):
                    self._ctx.event(out, now, SLA_ACTOR, "sla_started", details={"sla": sla.name})
                continue
            if clock.target_key == group:
                continue
            used = clocks.consumed(definition, clock, now)
            missed = clock.breached or (clock.target_seconds is not None and used >= clock.target_seconds)
            fresh = SlaClockState(
                name=sla.name, agreement=clock.agreement, agreement_version=clock.agreement_version
            )
            record.slas[sla.name] = fresh
            details = {
                "sla": sla.name,
                "from_group": clock.target_key,
                "to_group": group,
                "consumed_seconds": used,
                "breached": missed,
            }
            self._ctx.event(out, now, SLA_ACTOR, "sla_restarted", details=details)
            if record.state in sla.runs_in:
                clocks.start(definition, sla, fresh, record.fields, now)
