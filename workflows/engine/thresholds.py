"""SLA thresholds: what crossing one does (its actions, in order), and the alarm that sends a
notify-only threshold's notifications from the worker at the deadline (`SlaAlarm`)."""

from __future__ import annotations

from datetime import datetime

from definitions.model import SlaDef
from workflows import sla as clocks
from workflows.contracts import Actor
from workflows.engine.effects import Effects
from workflows.engine.notifications import Notifier
from workflows.engine.outcome import Outcome, SlaAlarm
from workflows.engine.record import RecordContext
from workflows.engine.sla_clocks import SLA_ACTOR, SlaClocks


class Thresholds:
    def __init__(self, ctx: RecordContext, notifier: Notifier, clocks_: SlaClocks, effects: Effects) -> None:
        self._ctx = ctx
        self._notifier = notifier
        self._clocks = clocks_
        self._effects = effects

    def cross(self, name: str, percent: float, at: datetime) -> Outcome:
        """The clock `name` reached `percent` of its target at `at`: record it and run its actions."""
        out = Outcome()
        sla = self._clocks.definition_of(name)
        clock = self._ctx.record.slas[name]
        clock.fired.append(percent)
        if percent >= clocks.BREACH_AT:
            clock.breached = True
        details = {"sla": name, "at_percent": percent, "breached": clock.breached}
        self._ctx.event(out, at, SLA_ACTOR, "sla_threshold", details=details)
        self._actions(out, sla, percent, at, effects=True)
        return out

    def alarm(self, name: str, percent: float, at: datetime) -> SlaAlarm | None:
        """The threshold as an alarm, when its only actions are notifications and they name somebody."""
        sla = self._clocks.definition_of(name)
        actions = [e for t in sla.thresholds if t.at == percent for e in t.actions]
        if not actions or any(e.notify is None for e in actions):
            return None
        out = Outcome()
        self._actions(out, sla, percent, at, effects=False)
        if not out.notifications:
            return None
        return SlaAlarm(at=at, seq=self._ctx.record.seq, notifications=out.notifications)

    def _actions(self, out: Outcome, sla: SlaDef, percent: float, at: datetime, *, effects: bool) -> None:
        """Run a threshold's actions in their order (a notification after a re-assignment goes to the
        new group); `effects=False` only collects the notifications. Each notification is keyed by
        clock, threshold and instant, so the alarm and the timer agree on what was sent."""
        clock = self._ctx.record.slas[sla.name]
        actor = Actor.system(f"sla:{sla.name}")
        first = len(out.notifications)
        for threshold in sla.thresholds:
            if threshold.at != percent:
                continue
            for effect in threshold.actions:
                if effect.notify is None:
                    if effects:
                        self._effects.apply(out, effect, actor, at)
                    continue
                due_at = clocks.deadline_at(self._ctx.definition, clock, 100) or at
                extra = {"sla": sla.name, "threshold": f"{percent:g}%", "due_at": due_at.isoformat()}
                self._notifier.notify(out, effect.notify.template, effect.notify.to, None, extra)
        for i, note in enumerate(out.notifications[first:]):
            note.key = f"sla:{sla.name}:{percent:g}:{at.isoformat()}:{i}"
