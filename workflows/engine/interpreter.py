"""ProcessEngine: the interpreter of one record's definition, and the one door into the engine.

It creates records, checks and applies commands, moves the record and enters its new state; the parts
it is made of do the rest (approvals, SLA clocks and thresholds, timers, effects, notifications, read
views), all sharing one `RecordContext`. Every command comes in two halves: `check_*` raises a `Refusal`
and changes nothing (the Update validator calls it), and the command itself re-checks and applies (the
Update handler)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from definitions.guards import is_empty
from definitions.loader import PinnedDefinition
from definitions.model import ApplyCiChangesSpec, Definition, Permission, TransitionDef
from workflows.contracts import (
    Actor,
    AddAttachmentInput,
    AddCommentInput,
    ApplyCiChangesResult,
    ApprovalTask,
    AvailableTransition,
    DecideApprovalInput,
    FieldSpec,
    FireTransitionInput,
    RecordSnapshot,
    RecordState,
    ResolveReferencesResult,
    SlaClockState,
    StartProcessInput,
    UpdateFieldsInput,
)
from workflows.engine import (
    attachments,
    field_rights,
    moves,
    phrases,
    references,
    schedule_checks,
    views,
    words,
)
from workflows.engine.approvals import Approvals
from workflows.engine.effects import Effects
from workflows.engine.notifications import Notifier
from workflows.engine.outcome import CreateRequest, LinkedActRequest, OutageRequest, Outcome, SlaAlarm
from workflows.engine.phrases import say
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind, required
from workflows.engine.schedule_checks import ScheduleCheckInput
from workflows.engine.sla_clocks import SlaClocks
from workflows.engine.thresholds import Thresholds
from workflows.engine.timers import Timer, Timers


class ProcessEngine:
    """One record and its pinned definition. Pure and deterministic: no I/O, no clock (`now` is passed
    in), so it runs unchanged in a Temporal workflow, in unit tests and in the conformance replay."""

    def __init__(self, pinned: PinnedDefinition, record: RecordState) -> None:
        self._ctx = ctx = RecordContext(pinned, record)
        self._notifier = Notifier(ctx)
        self._clocks = SlaClocks(ctx)
        self._effects = Effects(ctx, self._notifier, self._clocks, self)
        self._approvals = Approvals(ctx, self._notifier, self)
        self._timers = Timers(
            ctx, Thresholds(ctx, self._notifier, self._clocks, self._effects), self._approvals, self
        )

    @property
    def pinned(self) -> PinnedDefinition:
        return self._ctx.pinned

    @property
    def definition(self) -> Definition:
        return self._ctx.definition

    @property
    def record(self) -> RecordState:
        return self._ctx.record

    def note(self, out: Outcome, now: datetime, actor: Actor, action: str, details: dict[str, Any]) -> None:
        """An audit event the workflow adds itself (e.g. which service level agreement a record runs on)."""
        self._ctx.event(out, now, actor, action, details=details)

    @property
    def is_final(self) -> bool:
        state = self._ctx.state
        return bool(state and state.final)

    @contextmanager
    def protection(self, on: bool) -> Iterator[None]:
        """Apply a command with separation of duties' protected fields on (the default) or off: a run
        from before they existed replays its recorded actions as they were (workflows/patches.py)."""
        self._ctx.protect_fields = on
        try:
            yield
        finally:
            self._ctx.protect_fields = True

    def matches(self, actor: Actor, perm: Permission) -> bool:
        """Whether the permission admits the actor on this record."""
        return self._ctx.permits(actor, perm)

    # --- creation -------------------------------------------------------------------------------------
    @classmethod
    def create(cls, inp: StartProcessInput, now: datetime) -> tuple[ProcessEngine, Outcome]:
        d = inp.definition.definition
        if not inp.actor.is_system and not set(inp.actor.roles) & set(d.start_roles):
            lang = inp.actor.language
            roles = phrases.listed([words.role(d, r, lang) for r in d.start_roles], lang)
            raise Refusal(
                RefusalKind.NotAllowed,
                say("may_not_start", lang, roles=roles, process=phrases.process(d, lang)),
            )
        values = {f.name: f.default for f in d.fields if f.default is not None}
        values.update({c.name: 0 for c in d.counters})  # counters start at 0 (issue 20)
        values["title"] = inp.title
        values.setdefault("requester", inp.actor.username if not inp.actor.is_system else None)
        record = RecordState(
            record_id=inp.record_id,
            number=inp.number,
            state=d.initial,
            fields={},
            created_at=now,
            updated_at=now,
            entered_state_at=now,
        )
        engine = cls(inp.definition, record)
        supplied = engine._ctx.checked_fields(inp.fields, what="fields", lang=inp.actor.language)
        values.update(supplied)
        values = {k: v for k, v in values.items() if v is not None}
        names = [f.name for f in d.fields if f.required]
        state = d.state(d.initial)
        names += state.required if state else []
        missing = [n for n in dict.fromkeys(names) if is_empty(values.get(n))]
        if missing:
            lang = inp.actor.language
            labels = phrases.listed([words.field(d, n, lang) for n in missing], lang)
            raise Refusal(
                RefusalKind.MissingFields,
                say("missing_at_start", lang, fields=labels),
                required(missing, lang),
            )
        record.fields = values
        if inp.parent_id is None:  # a linked record's values are its parent definition's, not a person's
            defaults = {f.name: f.default for f in d.fields}
            chosen = [n for n, v in supplied.items() if v is not None and v != defaults.get(n)]
            field_rights.check_start(engine._ctx, inp.actor, chosen)
        engine._ctx.derive_priority()
        for sla in d.slas:
            record.slas[sla.name] = SlaClockState(name=sla.name)
        out = Outcome()
        details = {
            "definition": d.key,
            "version": inp.definition.version,
            "fields": record.fields,
            **({"parent": inp.parent_id} if inp.parent_id else {}),
        }
        engine._ctx.event(out, now, inp.actor, "created", to_state=d.initial, details=details)
        engine._enter_state(out, d.initial, now)
        engine._effects.note_interruption(out, now)
        return engine, out

    # --- transitions ----------------------------------------------------------------------------------
    def check_fire(self, inp: FireTransitionInput, now: datetime | None = None) -> None:
        moves.choose(self._ctx, inp.actor, inp.trigger, inp.fields, inp.comment, now)

    def fire(self, inp: FireTransitionInput, now: datetime) -> Outcome:
        move = moves.choose(self._ctx, inp.actor, inp.trigger, inp.fields, inp.comment, now)
        self._ctx.chain = list(inp.chain)
        try:
            return self._apply(move.transition, move.values, inp.actor, inp.comment, now)
        finally:
            self._ctx.chain = []

    def try_fire(self, actor: Actor, trigger: str, now: datetime) -> Outcome:
        """Fire `trigger` as `actor` without values; a refusal is recorded as a skipped action (what
        approvals, timers and effects do: the rules they meet are facts, not errors)."""
        try:
            move = moves.choose(self._ctx, actor, trigger, {}, None, now)
        except Refusal as refusal:
            out = Outcome()
            details = {"fire": trigger, "reason": refusal.message}
            self._ctx.event(out, now, actor, "action_skipped", details=details)
            return out
        return self._apply(move.transition, {}, actor, None, now)

    def _apply(
        self,
        transition: TransitionDef,
        values: dict[str, Any],
        actor: Actor,
        comment: str | None,
        now: datetime,
    ) -> Outcome:
        """Move the record along `transition` (the one the machine took) with the values sent, enter the
        new state, then run the transition's effects."""
        out = Outcome()
        before = self.record.state
        changed = self._ctx.set_fields(values)
        priority_changed = self._ctx.derive_priority()
        details = {"trigger": transition.trigger, **({"fields": changed} if changed else {})}
        self._ctx.event(
            out,
            now,
            actor,
            "transition",
            from_state=before,
            to_state=transition.to,
            comment=comment,
            details=details,
        )
        if priority_changed:
            self._clocks.retarget(out, now)
        self._enter_state(out, transition.to, now)
        if before == self.definition.initial and transition.to != before and self.record.responded_at is None:
            self.record.responded_at = now  # the first response (docs/sla.md)
        for effect in transition.effects:
            self._effects.apply(out, effect, actor, now)
        self._settle(out, now)
        return out

    def _settle(self, out: Outcome, now: datetime) -> None:
        """What follows from the fields as a command left them: operational-level clocks follow the
        support group, a flagged service interruption notes when it began."""
        self._clocks.follow_group(out, now)
        self._effects.note_interruption(out, now)

    def _enter_state(self, out: Outcome, state: str, now: datetime) -> None:
        self.record.state = state
        self.record.entered_state_at = now
        self.record.timed_done = []
        self._clocks.on_enter(out, state, now)
        self._approvals.on_enter(out, state, now)

    # --- checked references (the workflow looks them up: workflows/engine/references.py) --------------
    def references_in(self, values: Mapping[str, Any]) -> references.Wanted:
        """The checked reference values among values sent (at creation, with an edit)."""
        return references.wanted_in(self.definition, values)

    def references_to_fire(self, inp: FireTransitionInput) -> references.Wanted:
        """The checked reference values firing `inp` needs: those sent and those its transition requires."""
        return references.wanted_for_fire(self._ctx, inp.actor, inp.trigger, inp.fields)

    def schedule_check_to_fire(self, inp: FireTransitionInput, now: datetime) -> ScheduleCheckInput | None:
        """The change-schedule check firing `inp` needs (workflows/engine/schedule_checks.py)."""
        return schedule_checks.wanted(self._ctx, inp.actor, inp.trigger, inp.fields, now)

    def schedule_check_to_update(self, inp: UpdateFieldsInput) -> ScheduleCheckInput | None:
        """The change-schedule check an edit needs (the definition's `reschedule_check`)."""
        if self.definition.reschedule_check is None:
            return None
        try:
            clean = self.check_update(inp)
        except Refusal:
            return None  # the handler refuses it with the rule's own words
        return schedule_checks.wanted_for_edit(self._ctx, inp.actor, clean)

    def check_references(self, wanted: references.Wanted, found: ResolveReferencesResult, lang: str) -> None:
        references.check(self.definition, wanted, found, lang)

    def named_cis(self) -> dict[str, list[int]] | None:
        """The CIs the record's `ci` fields name now; None when the definition has no `ci` field."""
        return references.cis_named(self.definition, self.record.fields)

    # --- fields and comments --------------------------------------------------------------------------
    def check_update(self, inp: UpdateFieldsInput) -> dict[str, Any]:
        record, d, lang = self.record, self.definition, inp.actor.language
        if not inp.actor.is_system and not field_rights.may_edit_any(self._ctx, inp.actor):
            who = words.who(d, d.editors, lang)
            raise Refusal(
                RefusalKind.NotAllowed,
                say("may_not_edit", lang, user=inp.actor.username, number=record.number, who=who),
            )
        state = self._ctx.state
        here = words.state(d, record.state, lang)
        if state and state.final:
            raise Refusal(RefusalKind.WrongState, say("closed", lang, number=record.number, state=here))
        clean = self._ctx.checked_fields(inp.fields, what="fields", lang=lang)
        field_rights.check(self._ctx, inp.actor, field_rights.changes_of(self._ctx, clean), edit=True)
        readonly = [n for n in clean if state and n in state.readonly and clean[n] != record.fields.get(n)]
        if readonly:
            why = say("read_only", lang, number=record.number, state=here)
            errors = [{"path": f"fields.{n}", "message": why} for n in readonly]
            labels = phrases.listed([words.field(d, n, lang) for n in readonly], lang)
            message = say("read_only_fields", lang, number=record.number, state=here, fields=labels)
            raise Refusal(RefusalKind.InvalidFields, message, errors)
        required_now = set(state.required) if state else set()
        cleared = [n for n in clean if clean[n] is None and n in required_now]
        if cleared:
            labels = phrases.listed([words.field(d, n, lang) for n in cleared], lang)
            raise Refusal(
                RefusalKind.MissingFields,
                say("required_in_state", lang, number=record.number, state=here, fields=labels),
                required(cleared, lang),
            )
        return clean

    def update_fields(self, inp: UpdateFieldsInput, now: datetime) -> Outcome:
        clean = self.check_update(inp)
        out = Outcome()
        changed = {k: v for k, v in clean.items() if self.record.fields.get(k) != v}
        if not changed:
            return out
        self._ctx.set_fields(changed)
        self._ctx.event(
            out, now, inp.actor, "fields_changed", comment=inp.comment, details={"fields": changed}
        )
        pm = self.definition.priority_matrix
        if pm is not None and self._ctx.derive_priority():
            priority = {"priority": self.record.fields.get(pm.priority_field)}
            self._ctx.event(out, now, "system:priority", "priority_changed", details=priority)
            self._clocks.retarget(out, now)
        self._settle(out, now)
        return out

    def comment(self, inp: AddCommentInput, now: datetime) -> Outcome:
        out = Outcome()
        self._ctx.event(out, now, inp.actor, "comment", comment=inp.body)
        return out

    def check_attach(self, inp: AddAttachmentInput) -> None:
        attachments.check(self._ctx, inp)

    def attach(self, inp: AddAttachmentInput, now: datetime) -> Outcome:
        return attachments.attach(self._ctx, inp, now)

    # --- approvals ------------------------------------------------------------------------------------
    def check_decide(self, inp: DecideApprovalInput) -> ApprovalTask:
        task = self._approvals.check_decide(inp)
        if inp.decision == "reject" and not (inp.comment or "").strip():
            # A rejection says why (issue 16: a CAB member could reject with one tap). Checked here, in
            # the Update's validator only: validators are never replayed, so runs that accepted a bare
            # rejection before this rule replay unchanged (the handler's own re-check leaves it out).
            lang = inp.actor.language
            message = say("reject_needs_reason", lang, number=self.record.number)
            raise Refusal(
                RefusalKind.MissingFields, message, [{"path": "comment", "message": say("reason", lang)}]
            )
        return task

    def decide(self, inp: DecideApprovalInput, now: datetime, delegation: int | None = None) -> Outcome:
        return self._approvals.decide(inp, now, delegation)

    def approvers_resolved(self, task_id: str, users: list[str], now: datetime) -> Outcome:
        """The directory answered who may decide: apply separation of duties and open the task."""
        return self._approvals.resolved(task_id, users, now)

    # --- linked records -------------------------------------------------------------------------------
    def linked_created(self, req: CreateRequest, record_id: str, number: str, now: datetime) -> Outcome:
        return self._effects.linked_created(req, record_id, number, now)

    def ci_changes_applied(
        self, spec: ApplyCiChangesSpec, result: ApplyCiChangesResult, now: datetime
    ) -> Outcome:
        return self._effects.ci_changes_applied(spec, result, now)

    def linked_acted(self, req: LinkedActRequest, results: list[dict[str, Any]], now: datetime) -> Outcome:
        return self._effects.linked_acted(req, results, now)

    def outage_recorded(self, request: OutageRequest, outage: int | None, now: datetime) -> Outcome:
        return self._effects.outage_recorded(request, outage, now)

    # --- timers ---------------------------------------------------------------------------------------
    def timers(self) -> list[Timer]:
        """Every pending timer, earliest first."""
        return self._timers.pending()

    def next_wakeup(self, after_alarm: bool = False) -> datetime | None:
        """The earliest timer; with `after_alarm`, the earliest after the next alarm's own timer."""
        return self._timers.next_wakeup(after_alarm)

    def next_alarm(self) -> SlaAlarm | None:
        return self._timers.next_alarm()

    def on_timers(self, now: datetime) -> Outcome:
        """Fire everything due at or before `now`, earliest first, each exactly once."""
        out = self._timers.fire_due(now)
        self._settle(out, now)
        return out

    # --- read views -----------------------------------------------------------------------------------
    def available(self, actor: Actor) -> list[AvailableTransition]:
        return views.available(self._ctx, actor)

    def editable(self, actor: Actor) -> list[str]:
        """The fields `actor` may change now by an edit."""
        return views.editable(self._ctx, actor)

    def for_actor(self, actor: Actor) -> dict[str, Any]:
        """The parts of a snapshot that depend on who asks: what they may fire and edit."""
        return {"available_transitions": self.available(actor), "editable_fields": self.editable(actor)}

    def field_spec(self, name: str, *, required: bool) -> FieldSpec:
        return views.field_spec(self.definition, name, required=required)

    def snapshot(self, actor: Actor | None, now: datetime) -> RecordSnapshot:
        return views.snapshot(self._ctx, actor, now)
