"""Moves: which transition a trigger takes for an actor, or the rule that refuses it.

The definition's state machine (`definitions.compiler`) is the one authority on moves: it knows each
trigger's transitions, their sources and order, and decides with their conditions (the actor may fire
it, its guard passes) which one is taken. The engine only words the refusals, in the order a person can
act on them: the trigger exists, it can fire from this state, the actor may fire it, the values sent
are valid, a guard lets it through, and the fields (and comment) its target needs are there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, Protocol

from definitions import compiler
from definitions.guards import describe, is_empty
from definitions.model import Definition, TransitionDef
from workflows.contracts import Actor
from workflows.engine import field_rights
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
    """The transition the machine takes for `actor` firing `trigger` with these values, or the Refusal
    saying why none."""
    definition, record = ctx.definition, ctx.record
    machine = compiler.machine_for(definition)
    sources = compiler.sources_of(machine, trigger)
    if sources is None:
        raise Refusal(RefusalKind.UnknownTrigger, f"process '{definition.key}' has no transition '{trigger}'")
    if record.state not in sources:
        raise Refusal(
            RefusalKind.WrongState,
            f"'{trigger}' is not possible in state '{record.state}' "
            f"(only from: {', '.join(sorted(sources))})",
        )
    try:
        values = ctx.checked_fields(supplied, what="fields")
        invalid = None
    except Refusal as refusal:
        values, invalid = {}, refusal
    merged = {**record.fields, **values}
    # Permissions read the record as it is (its relations name who they name now), guards the values sent.
    admits = None if actor.is_system else partial(ctx.permits, actor)
    attempt = compiler.Attempt(admits=admits, fields=merged)
    taken = compiler.ask(machine, record.state, trigger, attempt)
    if not attempt.permitted:
        perms = [t.allowed for t, _ in attempt.refused if t.allowed is not None]
        who = " or ".join(describe_permission(p) for p in perms) or "the engine only"
        raise Refusal(
            RefusalKind.NotAllowed,
            f"{actor.username} may not fire '{trigger}' on {record.number}: allowed for {who}",
        )
    if invalid is not None:
        raise invalid
    # Values sent with a transition are changes like any edit: the same field rights bind them.
    field_rights.check(ctx, actor, field_rights.changes_of(ctx, values), edit=False)
    if taken is None:
        raise guard_failed(trigger, next(t for t, why in attempt.refused if why == "guard"))
    if not actor.is_system:
        refuse_missing(required_by(definition, taken), merged, taken, trigger, comment)
    return Move(taken, values)


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
