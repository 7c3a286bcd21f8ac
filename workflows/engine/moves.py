"""Moves: which transition a trigger takes for an actor, or the rule that refuses it.

The checks come in the order a person can act on: the trigger exists, it can fire from this state,
the actor may fire it, the values sent are valid, a guard lets it through, and the fields (and comment)
its target needs are there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from definitions.guards import describe, evaluate, is_empty
from definitions.model import Definition, TransitionDef
from workflows.contracts import Actor
from workflows.engine.outcome import Outcome
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind, describe_permission


class Mover(Protocol):
    """What moves the record: the engine itself, for the parts that fire transitions (approvals
    deciding, timers, effects)."""

    def try_fire(self, actor: Actor, trigger: str, now: datetime) -> Outcome:
        """Fire `trigger` as `actor`; a refusal is recorded as a skipped action, not raised."""
        ...


class Move(NamedTuple):
    transition: TransitionDef
    values: dict[str, Any]  # the values sent with the trigger, checked and normalised


def choose(
    ctx: RecordContext, actor: Actor, trigger: str, supplied: Mapping[str, Any], comment: str | None
) -> Move:
    """The transition `trigger` takes for `actor` with these values, or the Refusal saying why not."""
    definition, record = ctx.definition, ctx.record
    if not any(t.trigger == trigger for t in definition.transitions):
        raise Refusal(RefusalKind.UnknownTrigger, f"process '{definition.key}' has no transition '{trigger}'")
    candidates = [
        t for t in definition.transitions if t.trigger == trigger and record.state in definition.sources(t)
    ]
    if not candidates:
        possible = sorted(
            {s for t in definition.transitions if t.trigger == trigger for s in definition.sources(t)}
        )
        raise Refusal(
            RefusalKind.WrongState,
            f"'{trigger}' is not possible in state '{record.state}' (only from: {', '.join(possible)})",
        )
    if not actor.is_system:
        allowed = [t for t in candidates if t.allowed is not None and ctx.permits(actor, t.allowed)]
        if not allowed:
            perms = [t.allowed for t in candidates if t.allowed is not None]
            who = " or ".join(describe_permission(p) for p in perms) or "the engine only"
            raise Refusal(
                RefusalKind.NotAllowed,
                f"{actor.username} may not fire '{trigger}' on {record.number}: allowed for {who}",
            )
        candidates = allowed
    clean = ctx.checked_fields(supplied, what="fields")
    merged = {**record.fields, **clean}
    passing = [t for t in candidates if t.guard is None or evaluate(t.guard, merged)]
    if not passing:
        raise guard_failed(trigger, candidates[0])
    chosen = passing[0]
    if not actor.is_system:
        refuse_missing(required_by(definition, chosen), merged, chosen, trigger, comment)
    return Move(chosen, clean)


def guard_failed(trigger: str, transition: TransitionDef) -> Refusal:
    if transition.guard_message:
        why = transition.guard_message.en
    elif transition.guard:
        why = f"condition not met: {describe(transition.guard)}"
    else:
        why = "condition not met"
    return Refusal(RefusalKind.GuardFailed, f"'{trigger}' refused: {why}")


def required_by(definition: Definition, transition: TransitionDef) -> list[str]:
    """The fields a transition asks for: its own and those its target state requires."""
    target = definition.state(transition.to)
    return list(dict.fromkeys(transition.required_fields + (target.required if target else [])))


def refuse_missing(
    required: list[str],
    values: Mapping[str, Any],
    transition: TransitionDef,
    trigger: str,
    comment: str | None,
) -> None:
    """Refuse when a required field is empty or a required comment is missing."""
    errors = [{"path": f"fields.{n}", "message": "required"} for n in required if is_empty(values.get(n))]
    if transition.comment_required and not (comment and comment.strip()):
        errors.append({"path": "comment", "message": "required"})
    if errors:
        names = ", ".join(e["path"].removeprefix("fields.") for e in errors)
        raise Refusal(RefusalKind.MissingFields, f"'{trigger}' needs: {names}", errors)
