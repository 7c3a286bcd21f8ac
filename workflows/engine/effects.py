"""Effects: what a transition or an SLA threshold does besides moving the record, one handler per kind
of effect (`Effect.kind`, the one key an effect has)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from definitions.model import ApplyCiChangesSpec, Effect, RecordOutageSpec
from definitions.templates import render
from workflows.contracts import Actor, ApplyCiChangesResult
from workflows.engine.moves import Mover
from workflows.engine.notifications import Notifier
from workflows.engine.outcome import CiChangesRequest, CreateRequest, LinkedActRequest, OutageRequest, Outcome
from workflows.engine.record import RecordContext
from workflows.engine.sla_clocks import SlaClocks

Handler = Callable[[Outcome, Effect, Actor, datetime], None]


class Effects:
    def __init__(self, ctx: RecordContext, notifier: Notifier, clocks: SlaClocks, mover: Mover) -> None:
        self._ctx = ctx
        self._notifier = notifier
        self._clocks = clocks
        self._mover = mover
        self.handlers: Mapping[str, Handler] = {
            "set": self._set,
            "notify": self._notify,
            "start_sla": self._start_sla,
            "stop_sla": self._stop_sla,
            "create_record": self._create_record,
            "escalate": self._escalate,
            "reassign": self._reassign,
            "fire": self._fire,
            "apply_ci_changes": self._apply_ci_changes,
            "record_outage": self._record_outage,
            "increment": self._increment,
            "act_on_linked": self._act_on_linked,
        }
        # The service interruptions the definition records (its `record_outage` effects), once each.
        self._outages = list(
            {
                (e.record_outage.flag, e.record_outage.start_field): e.record_outage
                for t in ctx.definition.transitions
                for e in t.effects
                if e.record_outage is not None
            }.values()
        )

    def apply(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        self.handlers[effect.kind](out, effect, actor, now)

    def linked_created(self, req: CreateRequest, record_id: str, number: str, now: datetime) -> Outcome:
        """The linked record a `create_record` effect asked for was started: link it."""
        out = Outcome()
        record = self._ctx.record
        record.links.append(
            {"id": record_id, "number": number, "definition": req.definition, "role": "child"}
        )
        if req.link_field:
            record.fields[req.link_field] = record_id
        details = {"record": record_id, "number": number, "definition": req.definition}
        self._ctx.event(out, now, "system:link", "linked_record_created", details=details)
        return out

    def ci_changes_applied(
        self, spec: ApplyCiChangesSpec, result: ApplyCiChangesResult, now: datetime
    ) -> Outcome:
        """The CI changes proposed on the record were applied (or refused, each with its reason): an
        audit event says which; the `done_field` is set when nothing failed."""
        out = Outcome()
        details: dict[str, Any] = {
            "applied": result.applied,
            "failed": [f.model_dump() for f in result.failed],
        }
        self._ctx.event(out, now, "system:cmdb", "ci_changes_applied", details=details)
        if spec.done_field and not result.failed:
            changed = self._ctx.set_fields({spec.done_field: True})
            if changed:
                self._ctx.event(
                    out, now, "system:cmdb", "fields_set", details={"fields": changed, "by": "effect"}
                )
        return out

    def note_interruption(self, out: Outcome, now: datetime) -> None:
        """A record flagged as a service interruption notes when it began: the moment the flag was set
        (its creation, when created flagged), unless a person entered the start."""
        fields = self._ctx.record.fields
        for spec in self._outages:
            if fields.get(spec.flag) is True and not fields.get(spec.start_field):
                changed = self._ctx.set_fields({spec.start_field: now.isoformat()})
                details = {"fields": changed, "by": "service_interruption"}
                self._ctx.event(out, now, "system:sla", "fields_set", details=details)

    def outage_recorded(self, request: OutageRequest, outage: int | None, now: datetime) -> Outcome:
        """The outage was recorded (None: the record names no service, so nothing was)."""
        out = Outcome()
        details = {"service": request.service, "start": request.start, "end": request.end, "outage": outage}
        action = "outage_recorded" if outage is not None else "outage_not_recorded"
        self._ctx.event(out, now, "system:sla", action, details=details)
        return out

    # --- one handler per kind -------------------------------------------------------------------------
    def _apply_ci_changes(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        assert effect.apply_ci_changes is not None
        # The workflow runs the `apply_ci_changes` activity; the CI versions name who fired the move.
        out.apply_ci_changes = CiChangesRequest(effect.apply_ci_changes, actor.username)

    def _record_outage(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        spec: RecordOutageSpec | None = effect.record_outage
        assert spec is not None
        fields, record = self._ctx.record.fields, self._ctx.record
        if fields.get(spec.flag) is not True:
            return
        start = fields.get(spec.start_field) or record.created_at.isoformat()
        out.outages.append(OutageRequest(fields.get(spec.service_field), str(start), now.isoformat()))

    def _set(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        assert effect.set is not None
        fields = self._ctx.record.fields
        values = {k: self._ctx.substitute(v, actor, now, fields.get(k)) for k, v in effect.set.items()}
        changed = self._ctx.set_fields(values)
        if changed:
            self._ctx.event(out, now, actor, "fields_set", details={"fields": changed, "by": "effect"})
            if self._ctx.derive_priority():
                self._clocks.retarget(out, now)

    def _increment(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        """One more on a counter; recorded as a field change, so the history and the KPIs see it."""
        assert effect.increment is not None
        name = effect.increment
        current = self._ctx.record.fields.get(name)
        value = (current if isinstance(current, int) else 0) + 1
        self._ctx.set_fields({name: value})
        self._ctx.event(out, now, actor, "fields_set", details={"fields": {name: value}, "by": "counter"})

    def _act_on_linked(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        """Ask the workflow to fire a transition on each record the field names
        (workflows/linked_actions.py)."""
        spec = effect.act_on_linked
        assert spec is not None
        value = self._ctx.record.fields.get(spec.field)
        targets = [str(v) for v in (value if isinstance(value, list) else [value]) if v]
        if targets:
            chain = [*self._ctx.chain, self._ctx.record.record_id]
            out.acts.append(
                LinkedActRequest(spec.field, spec.trigger, targets, dict(spec.fields), spec.comment, chain)
            )

    def linked_acted(self, req: LinkedActRequest, results: list[dict[str, Any]], now: datetime) -> Outcome:
        """One audit entry per linked record: moved, or refused by its rules (with their words)."""
        out = Outcome()
        for result in results:
            details = {"field": req.field, "trigger": req.trigger, **result}
            self._ctx.event(out, now, Actor.system("link"), "linked_action", details=details)
        return out

    def _notify(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        assert effect.notify is not None
        self._notifier.notify(out, effect.notify.template, effect.notify.to, actor)

    def _start_sla(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        assert effect.start_sla is not None
        self._clocks.start(out, effect.start_sla, actor, now)

    def _stop_sla(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        assert effect.stop_sla is not None
        self._clocks.stop(out, effect.stop_sla, actor, now)

    def _create_record(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        spec = effect.create_record
        assert spec is not None
        record = self._ctx.record
        values: dict[str, Any] = {k: self._ctx.substitute(v, actor, now) for k, v in spec.fields.items()}
        if spec.title:
            title = render(spec.title, self._notifier.values())
        else:
            title = f"{record.number}: " + str(record.fields.get("title", ""))
        out.creates.append(
            CreateRequest(spec.definition, title, values, spec.link_field, spec.back_link_field)
        )

    def _escalate(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        esc = effect.escalate
        assert esc is not None
        fields = self._ctx.record.fields
        current = fields.get(esc.field)
        index = esc.levels.index(current) if current in esc.levels else -1
        if index + 1 < len(esc.levels):
            new = esc.levels[index + 1]
            fields[esc.field] = new
            details: dict[str, Any] = {"field": esc.field, "from": current, "to": new}
            if new in esc.groups:
                fields["assignment_group"] = esc.groups[new]
                details["assignment_group"] = esc.groups[new]
            self._ctx.event(out, now, actor, "escalated", details=details)

    def _reassign(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        group = effect.reassign
        assert group is not None
        fields = self._ctx.record.fields
        before = fields.get("assignment_group")
        if before != group:
            fields["assignment_group"] = group
            fields.pop("assignee", None)
            self._ctx.event(out, now, actor, "reassigned", details={"from": before, "to": group})

    def _fire(self, out: Outcome, effect: Effect, actor: Actor, now: datetime) -> None:
        assert effect.fire is not None
        out.extend(self._mover.try_fire(actor, effect.fire, now))
