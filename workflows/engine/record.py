"""The record being interpreted, with its definition, and the few rules every part of the engine
applies to it: writing audit events, checking field values, permissions, the priority matrix."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from definitions import checklist
from definitions.fieldvalues import FieldValueError, check_value
from definitions.loader import PinnedDefinition
from definitions.model import BUILTIN_FIELDS, Definition, FieldType, Permission, StateDef
from definitions.permissions import permits
from workflows.contracts import Actor, AuditEvent, RecordState
from workflows.engine import words
from workflows.engine.outcome import Outcome
from workflows.engine.phrases import say
from workflows.engine.refusals import Refusal, RefusalKind


class RecordContext:
    """One record and its pinned definition, shared by the parts of a `ProcessEngine`."""

    def __init__(self, pinned: PinnedDefinition, record: RecordState) -> None:
        self.pinned = pinned
        self.definition: Definition = pinned.definition
        self.record = record
        # Whether separation of duties protects the fields it reads (workflows/engine/field_rights.py):
        # off only while a run from before that rule replays its recorded actions (workflows/patches.py).
        self.protect_fields = True
        # While an action runs: the records whose linked actions led to it (FireTransitionInput.chain).
        self.chain: list[str] = []
        names = [f.name for f in self.definition.fields]
        names += [n for n in BUILTIN_FIELDS if self.definition.field(n) is None]
        self.field_types: Mapping[str, FieldType] = {
            name: self.definition.field_type(name) or "string" for name in names
        }

    @property
    def state(self) -> StateDef | None:
        """The definition of the state the record is in."""
        return self.definition.state(self.record.state)

    def event(
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
        """Write the record's next audit event into `out`.

        The event gets its own copy of `details`: callers pass the record's live values (its fields),
        and an event is re-sent until it is sealed (workflows/process.py), so a later change to the
        record must never change what an earlier event says."""
        self.record.seq += 1
        self.record.updated_at = now
        event = AuditEvent(
            seq=self.record.seq,
            at=now,
            actor=actor if isinstance(actor, str) else actor.username,
            action=action,
            from_state=from_state,
            to_state=to_state,
            comment=comment,
            details=_copied(details) if details else {},
        )
        out.events.append(event)
        return event

    def checked_fields(self, supplied: Mapping[str, Any], *, what: str, lang: str = "en") -> dict[str, Any]:
        """The values normalised to their fields' types, or an InvalidFields refusal naming each one
        (by its label in the message, by its path in `errors`), in `lang`."""
        errors: list[dict[str, str]] = []
        named: list[str] = []
        clean: dict[str, Any] = {}
        for name, value in supplied.items():
            kind = self.definition.field_type(name)
            if kind is None:
                message = say("unknown_field", lang, name=name)
                errors.append({"path": f"{what}.{name}", "message": message})
                named.append(message)
                continue
            if self.definition.counters and self.definition.is_counter(name):
                message = say("counter_set", lang, name=words.field(self.definition, name, lang))
                errors.append({"path": f"{what}.{name}", "message": message})
                named.append(message)
                continue
            try:
                clean[name] = check_value(kind, value, self.definition.field(name))
                if kind == "checklist" and clean[name] is not None:
                    # Answers sent add to those given before (one item at a time, by several people).
                    clean[name] = checklist.merged(self.record.fields.get(name), clean[name])
            except FieldValueError as exc:
                errors.append({"path": f"{what}.{name}", "message": exc.say(lang)})
                named.append(f"{words.field(self.definition, name, lang)}: {exc.say(lang)}")
        if errors:
            raise Refusal(RefusalKind.InvalidFields, "; ".join(named), errors)
        return clean

    def guard_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """What guards read besides the fields: each checklist's counts (`checks.failed`)."""
        extra: dict[str, Any] = {}
        for spec in self.definition.fields:
            if spec.type == "checklist":
                for count, n in checklist.counts(spec.items or [], values.get(spec.name)).items():
                    extra[f"{spec.name}.{count}"] = n
        return extra

    def permits(self, actor: Actor, perm: Permission) -> bool:
        """Whether the permission admits the actor on this record (its relations as they are now)."""
        return permits(
            self.definition,
            perm,
            username=actor.username,
            roles=actor.roles,
            groups=actor.groups,
            fields=self.record.fields,
        )

    def set_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Store the values (None clears a field); returns those that changed."""
        fields = self.record.fields
        changed = {k: v for k, v in values.items() if fields.get(k) != v}
        fields.update(values)
        self.record.fields = {k: v for k, v in fields.items() if v is not None}
        return changed

    def derive_priority(self) -> bool:
        """Apply the priority matrix to impact and urgency; whether the priority changed."""
        pm = self.definition.priority_matrix
        if pm is None:
            return False
        fields = self.record.fields
        value = pm.lookup(fields.get(pm.impact_field), fields.get(pm.urgency_field))
        if value is None or fields.get(pm.priority_field) == value:
            return False
        fields[pm.priority_field] = value
        return True

    def substitute(self, value: object, actor: Actor, now: datetime, current: object = None) -> object:
        """An effect's value with `$now`, `$actor`, `$actor_if_empty` (the actor, unless the field it
        sets — `current` — already names someone), `$clear`, `$field:NAME` and `$failed:CHECKLIST` (its
        failed items with their notes, in words) filled in."""
        if isinstance(value, str):
            if value == "$now":
                return now.isoformat()
            if value == "$actor":
                return actor.username
            if value == "$actor_if_empty":  # only definitions written with it get here
                return current if current not in (None, "") else actor.username
            if value == "$clear":
                return None
            if value.startswith("$field:"):
                return self.record.fields.get(value[7:])
            if value.startswith("$failed:"):  # a checklist's failed items, with their notes
                spec = self.definition.field(value[8:])
                items = spec.items or [] if spec else []
                return checklist.failed_summary(items, self.record.fields.get(value[8:]))
        return value


def _copied(value: Any) -> Any:
    """A copy of a JSON-like value, down to every dict and list (copy.deepcopy costs 5 times more)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value
