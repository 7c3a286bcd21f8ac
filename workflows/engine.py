"""The process interpreter: one record, its definition, and every rule of the language.

This class is pure and deterministic: it never does I/O and never reads the clock (`now` is passed
in), so it runs unchanged inside a Temporal workflow, in unit tests and in the conformance replay.
What needs the outside world (looking up approvers, sending notifications, starting linked records)
comes back as requests in an `Outcome`, which the workflow executes as activities and feeds back.

Every command comes in two halves: `check_*` raises a `Refusal` and changes nothing (the Update
validator calls it), and the command itself re-checks and applies (the Update handler).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from definitions import compiler
from definitions.calendar import add_business_time
from definitions.fieldvalues import FieldValueError, check_value
from definitions.guards import describe, evaluate, fields_of, is_empty
from definitions.loader import PinnedDefinition
from definitions.model import (
    ApprovalStep,
    Definition,
    Effect,
    Permission,
    SlaDef,
    TransitionDef,
)
from definitions.permissions import permits
from definitions.templates import render
from workflows import approvals as policy
from workflows import sla as clocks
from workflows.contracts import (
    Actor,
    AddCommentInput,
    ApprovalTask,
    AuditEvent,
    AvailableTransition,
    DecideApprovalInput,
    Decision,
    FieldSpec,
    FireTransitionInput,
    NotificationRecipient,
    RecordSnapshot,
    RecordState,
    SlaClockState,
    StartProcessInput,
    UpdateFieldsInput,
)


class RefusalKind(StrEnum):
    """The rule family that refused an action. The values are the type names of the Temporal
    `ApplicationError`s that Update validators raise (recorded in histories; the API maps them)."""

    NotAllowed = "NotAllowed"
    SeparationOfDuties = "SeparationOfDuties"
    WrongState = "WrongState"
    GuardFailed = "GuardFailed"
    MissingFields = "MissingFields"
    InvalidFields = "InvalidFields"
    AlreadyDecided = "AlreadyDecided"
    UnknownApproval = "UnknownApproval"
    UnknownTrigger = "UnknownTrigger"


class Refusal(Exception):
    """An action the rules refuse: `kind` names the rule family, `message` says which rule and why, and
    `errors` names each offending field or input by path."""

    def __init__(self, kind: RefusalKind, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errors = errors or []


@dataclass
class NotifyRequest:
    template: str
    subject: dict[str, str]
    body: dict[str, str]
    recipients: list[NotificationRecipient]
    context: dict[str, Any]
    # Set when the notification has an identity of its own (SLA thresholds): the worker's alarm
    # clock and the durable timer then deliver it under the same key, so it goes out once.
    key: str | None = None


@dataclass
class SlaAlarm:
    """An SLA threshold whose only effects are notifications, due at `at` if nothing changes first.

    The workflow hands it to the worker's alarm clock ahead of time, so the notifications leave at
    the deadline even when thousands of deadlines coincide; the durable timer still fires and
    delivers whatever the alarm did not (same keys, so nothing goes out twice)."""

    at: datetime
    seq: int  # the record's sequence when armed: any change since makes the alarm stand down
    notifications: list[NotifyRequest]

    @property
    def key(self) -> str:
        return f"{self.at.isoformat()}@{self.seq}"


@dataclass
class ResolveRequest:
    task_id: str
    users: list[str]
    groups: list[str]
    roles: list[str]


@dataclass
class CreateRequest:
    definition: str
    title: str
    fields: dict[str, Any]
    link_field: str | None
    back_link_field: str | None


@dataclass
class Outcome:
    events: list[AuditEvent] = field(default_factory=list)
    notifications: list[NotifyRequest] = field(default_factory=list)
    resolves: list[ResolveRequest] = field(default_factory=list)
    creates: list[CreateRequest] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.events += other.events
        self.notifications += other.notifications
        self.resolves += other.resolves
        self.creates += other.creates


GENERIC_REMINDER = {
    "subject": {"zh": "待审批提醒：{{number}} {{title}}", "en": "Approval reminder: {{number}} {{title}}"},
    "body": {
        "zh": "{{number}} 的审批 {{approval}} 正在等待您的决定，截止时间 {{deadline}}。",
        "en": "Approval {{approval}} of {{number}} is waiting for your decision; deadline {{deadline}}.",
    },
}
GENERIC_ESCALATION = {
    "subject": {"zh": "审批升级：{{number}} {{title}}", "en": "Approval escalated: {{number}} {{title}}"},
    "body": {
        "zh": "{{number}} 的审批 {{approval}} 已超过截止时间 {{deadline}}，请介入。",
        "en": "Approval {{approval}} of {{number}} passed its deadline {{deadline}}; please step in.",
    },
}


class ProcessEngine:
    def __init__(self, pinned: PinnedDefinition, record: RecordState) -> None:
        self.pinned = pinned
        self.definition: Definition = pinned.definition
        self.record = record
        self._model = compiler.MachineModel()
        self._field_types = {
            name: self.definition.field_type(name) or "string" for name in self._all_field_names()
        }

    # ------------------------------------------------------------------------------------------------
    # creation
    @classmethod
    def create(cls, inp: StartProcessInput, now: datetime) -> tuple[ProcessEngine, Outcome]:
        d = inp.definition.definition
        if not inp.actor.is_system and not set(inp.actor.roles) & set(d.start_roles):
            raise Refusal(
                RefusalKind.NotAllowed, f"only roles {', '.join(d.start_roles)} may start a {d.key} record"
            )
        values = {f.name: f.default for f in d.fields if f.default is not None}
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
        supplied = engine._checked_fields(inp.fields, what="fields")
        values.update(supplied)
        values = {k: v for k, v in values.items() if v is not None}
        required = [f.name for f in d.fields if f.required]
        state = d.state(d.initial)
        required += state.required if state else []
        missing = [n for n in dict.fromkeys(required) if is_empty(values.get(n))]
        if missing:
            raise Refusal(
                RefusalKind.MissingFields,
                f"missing required field(s): {', '.join(missing)}",
                [{"path": f"fields.{n}", "message": "required"} for n in missing],
            )
        record.fields = values
        engine._derive_priority()
        for sla in d.slas:
            record.slas[sla.name] = SlaClockState(name=sla.name)
        out = Outcome()
        engine._event(
            out,
            now,
            inp.actor,
            "created",
            to_state=d.initial,
            details={
                "definition": d.key,
                "version": inp.definition.version,
                "fields": record.fields,
                **({"parent": inp.parent_id} if inp.parent_id else {}),
            },
        )
        engine._enter_state(out, d.initial, inp.actor, now)
        return engine, out

    # ------------------------------------------------------------------------------------------------
    # helpers
    def _all_field_names(self) -> list[str]:
        from definitions.model import BUILTIN_FIELDS

        return [f.name for f in self.definition.fields] + [
            n for n in BUILTIN_FIELDS if self.definition.field(n) is None
        ]

    def _event(
        self,
        out: Outcome,
        now: datetime,
        actor: Actor | str,
        action: str,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        comment: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        self.record.seq += 1
        self.record.updated_at = now
        who = actor if isinstance(actor, str) else actor.username
        event = AuditEvent(
            seq=self.record.seq,
            at=now,
            actor=who,
            action=action,
            from_state=from_state,
            to_state=to_state,
            comment=comment,
            details=details or {},
        )
        out.events.append(event)
        return event

    def _checked_fields(self, supplied: dict[str, Any], *, what: str) -> dict[str, Any]:
        errors: list[dict[str, str]] = []
        clean: dict[str, Any] = {}
        for name, value in supplied.items():
            kind = self.definition.field_type(name)
            if kind is None:
                errors.append({"path": f"{what}.{name}", "message": f"unknown field '{name}'"})
                continue
            try:
                clean[name] = check_value(kind, value, self.definition.field(name))
            except FieldValueError as exc:
                errors.append({"path": f"{what}.{name}", "message": str(exc)})
        if errors:
            raise Refusal(
                RefusalKind.InvalidFields, "; ".join(f"{e['path']}: {e['message']}" for e in errors), errors
            )
        return clean

    def matches(self, actor: Actor, perm: Permission) -> bool:
        return permits(
            self.definition,
            perm,
            username=actor.username,
            roles=actor.roles,
            groups=actor.groups,
            fields=self.record.fields,
        )

    @staticmethod
    def _describe_permission(perm: Permission) -> str:
        parts = []
        if perm.roles:
            parts.append("roles " + ", ".join(perm.roles))
        if perm.groups:
            parts.append("members of " + ", ".join(perm.groups))
        if perm.users:
            parts.append("users " + ", ".join(perm.users))
        if perm.relations:
            parts.append("the record's " + ", ".join(r.removeprefix("field:") for r in perm.relations))
        return "; ".join(parts)

    def _derive_priority(self) -> bool:
        pm = self.definition.priority_matrix
        if pm is None:
            return False
        value = pm.lookup(self.record.fields.get(pm.impact_field), self.record.fields.get(pm.urgency_field))
        if value is None or self.record.fields.get(pm.priority_field) == value:
            return False
        self.record.fields[pm.priority_field] = value
        return True

    def _substitute(self, value: Any, actor: Actor, now: datetime) -> Any:
        if isinstance(value, str):
            if value == "$now":
                return now.isoformat()
            if value == "$actor":
                return actor.username
            if value == "$clear":
                return None
            if value.startswith("$field:"):
                return self.record.fields.get(value[7:])
        return value

    def _context(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        state = self.definition.state(self.record.state)
        ctx: dict[str, Any] = {
            **self.record.fields,
            "number": self.record.number,
            "id": self.record.record_id,
            "state": self.record.state,
            "definition": self.definition.key,
            "state_label": state.label.en if state and state.label else self.record.state,
            # The notification activity swaps this in for Chinese-speaking recipients.
            "state_label_zh": state.label.zh if state and state.label else self.record.state,
        }
        ctx.update(extra or {})
        return ctx

    def _recipients(self, specs: list[str], actor: Actor | None) -> list[NotificationRecipient]:
        out: list[NotificationRecipient] = []
        f = self.record.fields
        for spec in specs:
            if spec in ("requester", "assignee") and f.get(spec):
                out.append(NotificationRecipient(kind="user", name=str(f[spec])))
            elif spec == "assignment_group" and f.get("assignment_group"):
                out.append(NotificationRecipient(kind="group", name=str(f["assignment_group"])))
            elif spec == "group_lead" and f.get("assignment_group"):
                out.append(NotificationRecipient(kind="group_lead", name=str(f["assignment_group"])))
            elif spec == "actor" and actor is not None and not actor.is_system:
                out.append(NotificationRecipient(kind="user", name=actor.username))
            elif ":" in spec:
                kind, name = spec.split(":", 1)
                if kind == "field":
                    is_group = self._field_types.get(name) == "group"
                    for value in policy._users_in(f.get(name)):
                        out.append(NotificationRecipient(kind="group" if is_group else "user", name=value))
                elif kind in ("user", "group", "role"):
                    out.append(NotificationRecipient(kind=kind, name=name))
        return out

    def _notify(
        self,
        out: Outcome,
        template: str,
        to: list[str],
        actor: Actor | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        tpl = self.definition.notifications.get(template)
        if tpl is None:
            return
        recipients = self._recipients(to, actor)
        if recipients:
            out.notifications.append(
                NotifyRequest(
                    template,
                    tpl.subject.model_dump(),
                    tpl.body.model_dump(),
                    recipients,
                    self._context(extra),
                )
            )

    # ------------------------------------------------------------------------------------------------
    # state entry: SLA clocks, approvals, timers
    def _enter_state(self, out: Outcome, state: str, actor: Actor, now: datetime) -> None:
        self.record.state = state
        self.record.entered_state_at = now
        self.record.timed_done = []
        for sla in self.definition.slas:
            clock = self.record.slas.setdefault(sla.name, SlaClockState(name=sla.name))
            before = clock.status
            changed = False
            if state in sla.runs_in:
                changed = clocks.start(self.definition, sla, clock, self.record.fields, now)
            elif state in sla.pauses_in:
                changed = clocks.pause(self.definition, clock, now)
            elif state in sla.stops_in:
                changed = clocks.stop(self.definition, clock, now)
            if changed:
                action = {
                    "running": "sla_started" if before == "pending" else "sla_resumed",
                    "paused": "sla_paused",
                    "stopped": "sla_stopped",
                }[clock.status]
                self._event(
                    out,
                    now,
                    "system:sla",
                    action,
                    details={
                        "sla": sla.name,
                        "breached": clock.breached,
                        "consumed_seconds": clock.consumed_seconds,
                    },
                )
        for task in self.record.approvals:
            if task.state in ("pending", "resolving"):
                step = self._step(task.step)
                if step is None or step.state != state:
                    task.state = "cancelled"
                    task.closed_at = now
                    self._event(
                        out,
                        now,
                        "system:approval",
                        "approval_cancelled",
                        details={
                            "approval": task.id,
                            "reason": f"record left state {step.state if step else '?'}",
                        },
                    )
        for step in self.definition.approvals:
            if step.state == state:
                self._open_level(out, step, 0, now)

    def _step(self, name: str) -> ApprovalStep | None:
        return next((a for a in self.definition.approvals if a.name == name), None)

    def _open_level(self, out: Outcome, step: ApprovalStep, level_index: int, now: datetime) -> None:
        level = step.levels[level_index]
        self.record.approval_counter += 1
        deadline = None
        if step.deadline is not None:
            deadline = add_business_time(
                clocks.calendar_of(self.definition, step.calendar), now, step.deadline
            )
        task = ApprovalTask(
            id=f"{self.record.record_id}.a{self.record.approval_counter}",
            step=step.name,
            level=level_index,
            level_name=level.name,
            policy=level.policy,
            opened_at=now,
            deadline=deadline,
        )
        users, groups = policy.approver_fields(level, self.record.fields, dict(self._field_types))
        users = list(dict.fromkeys(level.approvers.users + users))
        groups = list(dict.fromkeys(level.approvers.groups + groups))
        task.groups = groups
        self.record.approvals.append(task)
        out.resolves.append(ResolveRequest(task.id, users, groups, list(level.approvers.roles)))
        self._event(
            out,
            now,
            "system:approval",
            "approval_opened",
            details={
                "approval": task.id,
                "step": step.name,
                "level": level.name,
                "policy": level.policy,
                "deadline": deadline.isoformat() if deadline else None,
            },
        )

    def approvers_resolved(self, task_id: str, users: list[str], now: datetime) -> Outcome:
        """The directory answered who may decide: apply separation of duties and open the task."""
        out = Outcome()
        task = self._task(task_id)
        step = self._step(task.step)
        if task.state != "resolving" or step is None:
            return out
        level = step.levels[task.level]
        excluded = policy.exclusions(step, self.record.fields)
        task.excluded = {u: rule for u, rule in excluded.items() if u in users}
        task.eligible = sorted(u for u in dict.fromkeys(users) if u not in excluded)
        task.needed = policy.needed(level, len(task.eligible))
        task.state = "pending"
        details: dict[str, Any] = {
            "approval": task.id,
            "eligible": task.eligible,
            "needed": task.needed,
            "excluded": task.excluded,
        }
        self._event(out, now, "system:approval", "approval_pending", details=details)
        if len(task.eligible) < task.needed:
            self._event(
                out,
                now,
                "system:approval",
                "approval_unsatisfiable",
                details={
                    "approval": task.id,
                    "message": f"{task.needed} approvals needed but only "
                    f"{len(task.eligible)} eligible approver(s) after separation of duties",
                },
            )
            if step.escalate_to:
                self._notify_generic(out, GENERIC_ESCALATION, step.escalate_to, task)
        return out

    def _notify_generic(
        self, out: Outcome, tpl: dict[str, dict[str, str]], to: list[str], task: ApprovalTask
    ) -> None:
        recipients = self._recipients(to, None)
        if recipients:
            ctx = self._context(
                {"approval": task.step, "deadline": task.deadline.isoformat() if task.deadline else ""}
            )
            out.notifications.append(NotifyRequest("approval", tpl["subject"], tpl["body"], recipients, ctx))

    def _task(self, task_id: str) -> ApprovalTask:
        task = next((t for t in self.record.approvals if t.id == task_id), None)
        if task is None:
            raise Refusal(RefusalKind.UnknownApproval, f"no approval '{task_id}' on {self.record.number}")
        return task

    # ------------------------------------------------------------------------------------------------
    # transitions
    def _candidates(self, trigger: str) -> list[TransitionDef]:
        return [
            t
            for t in self.definition.transitions
            if t.trigger == trigger and self.record.state in self.definition.sources(t)
        ]

    def _select(
        self, actor: Actor, trigger: str, supplied: dict[str, Any], comment: str | None
    ) -> tuple[TransitionDef, dict[str, Any]]:
        if not any(t.trigger == trigger for t in self.definition.transitions):
            raise Refusal(
                RefusalKind.UnknownTrigger, f"process '{self.definition.key}' has no transition '{trigger}'"
            )
        candidates = self._candidates(trigger)
        if not candidates:
            possible = sorted(
                {
                    s
                    for t in self.definition.transitions
                    if t.trigger == trigger
                    for s in self.definition.sources(t)
                }
            )
            raise Refusal(
                RefusalKind.WrongState,
                f"'{trigger}' is not possible in state '{self.record.state}' "
                f"(only from: {', '.join(possible)})",
            )
        if not actor.is_system:
            allowed = [t for t in candidates if t.allowed is not None and self.matches(actor, t.allowed)]
            if not allowed:
                perms = [t.allowed for t in candidates if t.allowed is not None]
                who = " or ".join(self._describe_permission(p) for p in perms) or "the engine only"
                raise Refusal(
                    RefusalKind.NotAllowed,
                    f"{actor.username} may not fire '{trigger}' on {self.record.number}: allowed for {who}",
                )
            candidates = allowed
        clean = self._checked_fields(supplied, what="fields")
        merged = {**self.record.fields, **clean}
        passing = [t for t in candidates if t.guard is None or evaluate(t.guard, merged)]
        if not passing:
            t = candidates[0]
            why = (
                t.guard_message.en
                if t.guard_message
                else f"condition not met: {describe(t.guard)}"
                if t.guard
                else "condition not met"
            )
            raise Refusal(RefusalKind.GuardFailed, f"'{trigger}' refused: {why}")
        chosen = passing[0]
        if not actor.is_system:
            target = self.definition.state(chosen.to)
            required = list(dict.fromkeys(chosen.required_fields + (target.required if target else [])))
            missing = [n for n in required if is_empty(merged.get(n))]
            errors = [{"path": f"fields.{n}", "message": "required"} for n in missing]
            if chosen.comment_required and not (comment and comment.strip()):
                errors.append({"path": "comment", "message": "required"})
            if errors:
                names = ", ".join(e["path"].removeprefix("fields.") for e in errors)
                raise Refusal(RefusalKind.MissingFields, f"'{trigger}' needs: {names}", errors)
        return chosen, clean

    def check_fire(self, inp: FireTransitionInput) -> None:
        self._select(inp.actor, inp.trigger, inp.fields, inp.comment)

    def fire(self, inp: FireTransitionInput, now: datetime) -> Outcome:
        chosen, clean = self._select(inp.actor, inp.trigger, inp.fields, inp.comment)
        return self._apply(chosen, clean, inp.actor, inp.comment, now)

    def _apply(
        self, t: TransitionDef, clean: dict[str, Any], actor: Actor, comment: str | None, now: datetime
    ) -> Outcome:
        out = Outcome()
        before = self.record.state
        changed = {k: v for k, v in clean.items() if self.record.fields.get(k) != v}
        self.record.fields.update(clean)
        self.record.fields = {k: v for k, v in self.record.fields.items() if v is not None}
        priority_changed = self._derive_priority()
        self._model.state = before
        moved = compiler.fire(
            compiler.machine_for(self.definition), self._model, t.trigger, lambda: self.record.fields
        )
        if not moved or self._model.state != t.to:
            # The machine is the authority on moves; disagreeing with our selection is a bug.
            raise RuntimeError(f"state machine refused {t.trigger} from {before} to {t.to}")
        self._event(
            out,
            now,
            actor,
            "transition",
            from_state=before,
            to_state=t.to,
            comment=comment,
            details={"trigger": t.trigger, **({"fields": changed} if changed else {})},
        )
        if priority_changed:
            self._retarget(out, now)
        self._enter_state(out, t.to, actor, now)
        for effect in t.effects:
            self._effect(out, effect, actor, now)
        return out

    def _effect(self, out: Outcome, e: Effect, actor: Actor, now: datetime) -> None:
        kind = e.kind
        if e.set is not None:
            values = {k: self._substitute(v, actor, now) for k, v in e.set.items()}
            changed = {k: v for k, v in values.items() if self.record.fields.get(k) != v}
            self.record.fields.update(values)
            self.record.fields = {k: v for k, v in self.record.fields.items() if v is not None}
            if changed:
                self._event(out, now, actor, "fields_set", details={"fields": changed, "by": "effect"})
                if self._derive_priority():
                    self._retarget(out, now)
        elif e.notify is not None:
            self._notify(out, e.notify.template, e.notify.to, actor)
        elif e.start_sla is not None or e.stop_sla is not None:
            name = e.start_sla or e.stop_sla or ""
            sla = next(s for s in self.definition.slas if s.name == name)
            clock = self.record.slas.setdefault(name, SlaClockState(name=name))
            ok = (
                clocks.start(self.definition, sla, clock, self.record.fields, now)
                if e.start_sla
                else clocks.stop(self.definition, clock, now)
            )
            if ok:
                self._event(
                    out,
                    now,
                    actor,
                    "sla_started" if e.start_sla else "sla_stopped",
                    details={"sla": name, "breached": clock.breached},
                )
        elif e.create_record is not None:
            spec = e.create_record
            values = {k: self._substitute(v, actor, now) for k, v in spec.fields.items()}
            title = (
                render(spec.title, self._context())
                if spec.title
                else f"{self.record.number}: " + str(self.record.fields.get("title", ""))
            )
            out.creates.append(
                CreateRequest(spec.definition, title, values, spec.link_field, spec.back_link_field)
            )
        elif e.escalate is not None:
            esc = e.escalate
            current = self.record.fields.get(esc.field)
            levels = esc.levels
            idx = levels.index(current) if current in levels else -1
            if idx + 1 < len(levels):
                new = levels[idx + 1]
                self.record.fields[esc.field] = new
                details: dict[str, Any] = {"field": esc.field, "from": current, "to": new}
                if new in esc.groups:
                    self.record.fields["assignment_group"] = esc.groups[new]
                    details["assignment_group"] = esc.groups[new]
                self._event(out, now, actor, "escalated", details=details)
        elif e.reassign is not None:
            before = self.record.fields.get("assignment_group")
            if before != e.reassign:
                self.record.fields["assignment_group"] = e.reassign
                self.record.fields.pop("assignee", None)
                self._event(out, now, actor, "reassigned", details={"from": before, "to": e.reassign})
        elif e.fire is not None:
            try:
                chosen, _ = self._select(actor, e.fire, {}, None)
            except Refusal as refusal:
                self._event(
                    out, now, actor, "action_skipped", details={"fire": e.fire, "reason": refusal.message}
                )
                return
            out.extend(self._apply(chosen, {}, actor, None, now))
        else:  # pragma: no cover - the model guarantees one key
            raise RuntimeError(f"unknown effect {kind}")

    def _retarget(self, out: Outcome, now: datetime) -> None:
        for sla in self.definition.slas:
            clock = self.record.slas.get(sla.name)
            if clock is None or clock.status == "stopped":
                continue
            old = clock.target_seconds
            if clock.status == "pending":
                if self.record.state in sla.runs_in and clocks.start(
                    self.definition, sla, clock, self.record.fields, now
                ):
                    self._event(out, now, "system:sla", "sla_started", details={"sla": sla.name})
                continue
            if clocks.retarget(self.definition, sla, clock, self.record.fields, now):
                self._event(
                    out,
                    now,
                    "system:sla",
                    "sla_retargeted",
                    details={"sla": sla.name, "from_seconds": old, "to_seconds": clock.target_seconds},
                )

    # ------------------------------------------------------------------------------------------------
    # fields and comments
    def check_update(self, inp: UpdateFieldsInput) -> dict[str, Any]:
        if not inp.actor.is_system and not self.matches(inp.actor, self.definition.editors):
            raise Refusal(
                RefusalKind.NotAllowed,
                f"{inp.actor.username} may not change fields of {self.record.number}: "
                f"allowed for {self._describe_permission(self.definition.editors)}",
            )
        if self.definition.state(self.record.state) and self.definition.state(self.record.state).final:  # type: ignore[union-attr]
            raise Refusal(
                RefusalKind.WrongState,
                f"{self.record.number} is {self.record.state}: a closed record cannot change",
            )
        clean = self._checked_fields(inp.fields, what="fields")
        state = self.definition.state(self.record.state)
        readonly = [
            n for n in clean if state and n in state.readonly and clean[n] != self.record.fields.get(n)
        ]
        if readonly:
            raise Refusal(
                RefusalKind.InvalidFields,
                f"read-only in state '{self.record.state}': {', '.join(readonly)}",
                [
                    {"path": f"fields.{n}", "message": f"read-only in state '{self.record.state}'"}
                    for n in readonly
                ],
            )
        required_now = set(state.required) if state else set()
        cleared = [n for n in clean if clean[n] is None and n in required_now]
        if cleared:
            raise Refusal(
                RefusalKind.MissingFields,
                f"required in state '{self.record.state}': {', '.join(cleared)}",
                [{"path": f"fields.{n}", "message": "required"} for n in cleared],
            )
        return clean

    def update_fields(self, inp: UpdateFieldsInput, now: datetime) -> Outcome:
        clean = self.check_update(inp)
        out = Outcome()
        changed = {k: v for k, v in clean.items() if self.record.fields.get(k) != v}
        if not changed:
            return out
        self.record.fields.update(changed)
        self.record.fields = {k: v for k, v in self.record.fields.items() if v is not None}
        self._event(out, now, inp.actor, "fields_changed", comment=inp.comment, details={"fields": changed})
        if self._derive_priority():
            pm = self.definition.priority_matrix
            assert pm is not None
            self._event(
                out,
                now,
                "system:priority",
                "priority_changed",
                details={"priority": self.record.fields.get(pm.priority_field)},
            )
            self._retarget(out, now)
        return out

    def comment(self, inp: AddCommentInput, now: datetime) -> Outcome:
        out = Outcome()
        self._event(out, now, inp.actor, "comment", comment=inp.body)
        return out

    # ------------------------------------------------------------------------------------------------
    # approvals
    def check_decide(self, inp: DecideApprovalInput) -> ApprovalTask:
        task = self._task(inp.approval_id)
        if task.state != "pending":
            raise Refusal(
                RefusalKind.AlreadyDecided, f"approval {task.id} is {task.state}; it takes no more decisions"
            )
        user = inp.actor.username
        if any(d.by == user for d in task.decisions):
            raise Refusal(RefusalKind.AlreadyDecided, f"{user} has already decided approval {task.id}")
        step = self._step(task.step)
        assert step is not None
        excluded = {**task.excluded, **policy.exclusions(step, self.record.fields)}
        if user in excluded:
            raise Refusal(
                RefusalKind.SeparationOfDuties, policy.sod_message(excluded[user], user, self.record.number)
            )
        level = step.levels[task.level]
        by_group = bool(set(inp.actor.groups) & set(task.groups))
        by_role = bool(set(inp.actor.roles) & set(level.approvers.roles))
        if user not in task.eligible and not by_group and not by_role:
            raise Refusal(
                RefusalKind.NotAllowed,
                f"{user} is not an approver of {task.step} ({task.level_name}) on {self.record.number}",
            )
        return task

    def decide(self, inp: DecideApprovalInput, now: datetime) -> Outcome:
        task = self.check_decide(inp)
        out = Outcome()
        step = self._step(task.step)
        assert step is not None
        if inp.actor.username not in task.eligible:
            task.eligible = sorted([*task.eligible, inp.actor.username])
        task.decisions.append(
            Decision(by=inp.actor.username, decision=inp.decision, comment=inp.comment, at=now)
        )
        self._event(
            out,
            now,
            inp.actor,
            "approval_decision",
            comment=inp.comment,
            details={
                "approval": task.id,
                "step": task.step,
                "level": task.level_name,
                "decision": inp.decision,
            },
        )
        result = policy.outcome(step.levels[task.level], task)
        if result is not None:
            out.extend(self._close_task(task, step, result, now))
        return out

    def _close_task(self, task: ApprovalTask, step: ApprovalStep, result: str, now: datetime) -> Outcome:
        out = Outcome()
        task.state = result  # type: ignore[assignment]
        task.closed_at = now
        self._event(
            out,
            now,
            "system:approval",
            f"approval_{result}",
            details={"approval": task.id, "step": step.name, "level": task.level_name},
        )
        if result == "approved" and task.level + 1 < len(step.levels):
            self._open_level(out, step, task.level + 1, now)
            return out
        trigger = {"approved": step.on_approved, "rejected": step.on_rejected}.get(
            result, step.expiry_trigger
        )
        if trigger:
            out.extend(self._system_fire(trigger, f"approval:{step.name}", now))
        return out

    def _system_fire(self, trigger: str, reason: str, now: datetime) -> Outcome:
        actor = Actor.system(reason)
        try:
            chosen, _ = self._select(actor, trigger, {}, None)
        except Refusal as refusal:
            out = Outcome()
            self._event(
                out, now, actor, "action_skipped", details={"fire": trigger, "reason": refusal.message}
            )
            return out
        return self._apply(chosen, {}, actor, None, now)

    # ------------------------------------------------------------------------------------------------
    # timers
    def _timers(self) -> list[tuple[datetime, str, Any]]:
        """Every pending timer as (instant, kind, payload); the workflow sleeps until the earliest."""
        due: list[tuple[datetime, str, Any]] = []
        for sla in self.definition.slas:
            clock = self.record.slas.get(sla.name)
            if clock is not None:
                nxt = clocks.next_due(self.definition, sla, clock)
                if nxt is not None:
                    due.append((nxt[0], "sla", (sla.name, nxt[1])))
        for task in self.record.approvals:
            if task.state != "pending" or task.deadline is None:
                continue
            step = self._step(task.step)
            assert step is not None
            if task.reminders_sent < len(step.reminders):
                cal = clocks.calendar_of(self.definition, step.calendar)
                at = add_business_time(cal, task.opened_at, step.reminders[task.reminders_sent])
                due.append((at, "reminder", task.id))
            if not task.escalated:
                due.append((task.deadline, "deadline", task.id))
        for t in self.definition.transitions:
            if (
                t.after is not None
                and self.record.state in t.from_
                and t.trigger not in self.record.timed_done
            ):
                cal = clocks.calendar_of(self.definition, t.calendar)
                due.append(
                    (add_business_time(cal, self.record.entered_state_at, t.after), "timed", t.trigger)
                )
        return sorted(due, key=lambda x: x[0])

    def next_wakeup(self, after_alarm: bool = False) -> datetime | None:
        """The earliest timer; with `after_alarm`, the earliest after the next alarm's own timer."""
        timers = self._timers()[1:] if after_alarm else self._timers()
        return timers[0][0] if timers else None

    def on_timers(self, now: datetime) -> Outcome:
        """Fire everything due at or before `now`, earliest first, each exactly once."""
        out = Outcome()
        for _ in range(1000):  # bounded: each pass consumes at least one timer
            timers = [t for t in self._timers() if t[0] <= now]
            if not timers:
                break
            at, kind, payload = timers[0]
            if kind == "sla":
                out.extend(self._sla_threshold(payload[0], payload[1], at))
            elif kind == "reminder":
                out.extend(self._remind(payload, at))
            elif kind == "deadline":
                out.extend(self._expire(payload, at))
            elif kind == "timed":
                self.record.timed_done.append(payload)
                out.extend(self._system_fire(payload, "timer", at))
        return out

    def _sla_threshold(self, name: str, percent: float, at: datetime) -> Outcome:
        out = Outcome()
        sla = next(s for s in self.definition.slas if s.name == name)
        clock = self.record.slas[name]
        clock.fired.append(percent)
        if percent >= clocks.BREACH_AT:
            clock.breached = True
        self._event(
            out,
            at,
            "system:sla",
            "sla_threshold",
            details={"sla": name, "at_percent": percent, "breached": clock.breached},
        )
        self._threshold_actions(out, sla, percent, at, effects=True)
        return out

    def _threshold_actions(
        self, out: Outcome, sla: SlaDef, percent: float, at: datetime, *, effects: bool
    ) -> None:
        """Run a threshold's actions in their order (a notification after a re-assignment goes to the
        new group); `effects=False` only collects the notifications. Each notification is keyed by
        clock, threshold and instant, so the alarm and the timer agree on what was sent."""
        clock = self.record.slas[sla.name]
        actor = Actor.system(f"sla:{sla.name}")
        first = len(out.notifications)
        for threshold in sla.thresholds:
            if threshold.at == percent:
                for effect in threshold.actions:
                    if effect.notify is None:
                        if effects:
                            self._effect(out, effect, actor, at)
                    else:
                        self._notify(
                            out,
                            effect.notify.template,
                            effect.notify.to,
                            None,
                            {
                                "sla": sla.name,
                                "threshold": f"{percent:g}%",
                                "due_at": (clocks.deadline_at(self.definition, clock, 100) or at).isoformat(),
                            },
                        )
        for i, note in enumerate(out.notifications[first:]):
            note.key = f"sla:{sla.name}:{percent:g}:{at.isoformat()}:{i}"

    def next_alarm(self) -> SlaAlarm | None:
        """The next timer as an alarm, when it is an SLA threshold that only notifies.

        Only the very next timer qualifies: anything due before it could change the record first
        (which the alarm would not know), and a threshold with other effects must run in the workflow.
        """
        timers = self._timers()
        if not timers or timers[0][1] != "sla":
            return None
        at, _, (name, percent) = timers[0]
        sla = next(s for s in self.definition.slas if s.name == name)
        effects = [e for t in sla.thresholds if t.at == percent for e in t.actions]
        if not effects or any(e.notify is None for e in effects):
            return None
        out = Outcome()
        self._threshold_actions(out, sla, percent, at, effects=False)
        return (
            SlaAlarm(at=at, seq=self.record.seq, notifications=out.notifications)
            if out.notifications
            else None
        )

    def _remind(self, task_id: str, at: datetime) -> Outcome:
        out = Outcome()
        task = self._task(task_id)
        step = self._step(task.step)
        assert step is not None
        task.reminders_sent += 1
        waiting = [u for u in task.eligible if u not in {d.by for d in task.decisions}]
        self._event(
            out,
            at,
            "system:approval",
            "approval_reminder",
            details={"approval": task.id, "to": waiting, "reminder": task.reminders_sent},
        )
        tpl = self.definition.notifications.get(step.remind_template or "")
        texts = (
            {"subject": tpl.subject.model_dump(), "body": tpl.body.model_dump()} if tpl else GENERIC_REMINDER
        )
        self._notify_generic(out, texts, [f"user:{u}" for u in waiting], task)
        return out

    def _expire(self, task_id: str, at: datetime) -> Outcome:
        out = Outcome()
        task = self._task(task_id)
        step = self._step(task.step)
        assert step is not None
        task.escalated = True
        self._event(
            out,
            at,
            "system:approval",
            "approval_deadline",
            details={"approval": task.id, "on_expiry": step.on_expiry},
        )
        if step.escalate_to:
            self._notify_generic(out, GENERIC_ESCALATION, step.escalate_to, task)
        if step.on_expiry == "escalate":
            return out
        result = {"approve": "approved", "reject": "rejected", "fire": "expired"}[step.on_expiry]
        out.extend(self._close_task(task, step, result, at))
        return out

    # ------------------------------------------------------------------------------------------------
    # links
    def linked_created(self, req: CreateRequest, record_id: str, number: str, now: datetime) -> Outcome:
        out = Outcome()
        self.record.links.append(
            {"id": record_id, "number": number, "definition": req.definition, "role": "child"}
        )
        if req.link_field:
            self.record.fields[req.link_field] = record_id
        self._event(
            out,
            now,
            "system:link",
            "linked_record_created",
            details={"record": record_id, "number": number, "definition": req.definition},
        )
        return out

    # ------------------------------------------------------------------------------------------------
    # read
    def available(self, actor: Actor) -> list[AvailableTransition]:
        result: list[AvailableTransition] = []
        seen: set[str] = set()
        for t in self.definition.transitions:
            if t.trigger in seen or t.allowed is None or self.record.state not in self.definition.sources(t):
                continue
            if not self.matches(actor, t.allowed):
                continue
            if (
                t.guard is not None
                and not evaluate(t.guard, self.record.fields)
                and not (set(fields_of(t.guard)) & set(t.required_fields))
            ):
                continue
            seen.add(t.trigger)
            target = self.definition.state(t.to)
            names = list(dict.fromkeys(t.required_fields + (target.required if target else [])))
            result.append(
                AvailableTransition(
                    trigger=t.trigger,
                    to=t.to,
                    label=t.label.model_dump() if t.label else None,
                    required_fields=[self.field_spec(n, required=True) for n in names],
                    comment_required=t.comment_required,
                )
            )
        return result

    def field_spec(self, name: str, *, required: bool) -> FieldSpec:
        spec = self.definition.field(name)
        return FieldSpec(
            name=name,
            type=self.definition.field_type(name) or "string",
            required=required,
            values=spec.values if spec else None,
            label=spec.label.model_dump() if spec and spec.label else None,
        )

    def snapshot(self, actor: Actor | None, now: datetime) -> RecordSnapshot:
        d = self.definition
        state = d.state(self.record.state)
        assert state is not None
        f = self.record.fields
        pm = d.priority_matrix
        priority = f.get(pm.priority_field if pm else "priority")
        views = [
            clocks.view(d, sla, self.record.slas[sla.name], now)
            for sla in d.slas
            if sla.name in self.record.slas
        ]
        return RecordSnapshot(
            id=self.record.record_id,
            number=self.record.number,
            definition=d.key,
            definition_version=self.pinned.version,
            definition_hash=self.pinned.hash,
            title=str(f.get("title", "")),
            state=self.record.state,
            state_label=state.label.model_dump() if state.label else None,
            state_category=state.category,
            final=state.final,
            fields=dict(f),
            priority=None if priority is None else str(priority),
            requester=f.get("requester"),
            assignee=f.get("assignee"),
            assignment_group=f.get("assignment_group"),
            created_at=self.record.created_at,
            updated_at=self.record.updated_at,
            slas=views,
            approvals=[t.model_copy(deep=True) for t in self.record.approvals],
            available_transitions=self.available(actor) if actor else [],
            hidden_fields=list(state.hidden),
            readonly_fields=list(state.readonly),
            links=list(self.record.links),
            seq=self.record.seq,
        )

    @property
    def is_final(self) -> bool:
        state = self.definition.state(self.record.state)
        return bool(state and state.final)
