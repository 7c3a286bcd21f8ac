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
from definitions.guards import evaluate, is_empty
from definitions.model import Definition, TransitionDef
from workflows.contracts import Actor
from workflows.engine import attachments, date_phrases, field_rights, phrases, words
from workflows.engine.outcome import Outcome
from workflows.engine.phrases import say
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind


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
    ctx: RecordContext,
    actor: Actor,
    trigger: str,
    supplied: Mapping[str, Any],
    comment: str | None,
    now: datetime | None = None,
) -> Move:
    """The transition the machine takes for `actor` firing `trigger` with these values, or the Refusal
    saying why none."""
    definition, record = ctx.definition, ctx.record
    lang = actor.language
    named = phrases.action(definition, trigger, lang)
    machine = compiler.machine_for(definition)
    sources = compiler.sources_of(machine, trigger)
    if sources is None:
        process = phrases.process(definition, lang)
        raise Refusal(
            RefusalKind.UnknownTrigger, say("unknown_action", lang, process=process, action=trigger)
        )
    if record.state not in sources:
        raise Refusal(
            RefusalKind.WrongState,
            say(
                "wrong_state",
                lang,
                action=named,
                number=record.number,
                state=words.state(definition, record.state, lang),
                sources=phrases.listed([words.state(definition, n, lang) for n in sorted(sources)], lang),
            ),
        )
    try:
        values = ctx.checked_fields(supplied, what="fields", lang=lang)
        invalid = None
    except Refusal as refusal:
        values, invalid = {}, refusal
    merged = {**record.fields, **values}
    # Permissions read the record as it is (its relations name who they name now), guards the values sent.
    admits = None if actor.is_system else partial(ctx.permits, actor)
    # Date guards read the moment of the action and the record's creation (definitions/dates.py).
    at = (now or record.updated_at).isoformat()
    attempt = compiler.Attempt(
        admits=admits,
        fields={
            **merged,
            **ctx.guard_values(merged),
            "now": at,
            "created_at": record.created_at.isoformat(),
        },
    )
    taken = compiler.ask(machine, record.state, trigger, attempt)
    if not attempt.permitted:
        perms = [t.allowed for t, _ in attempt.refused if t.allowed is not None]
        who = words.alternatives([words.who(definition, p, lang) for p in perms], lang)
        raise Refusal(
            RefusalKind.NotAllowed,
            say(
                "may_not_act",
                lang,
                user=actor.username,
                action=named,
                number=record.number,
                who=who or say("engine_only", lang),
            ),
        )
    if invalid is not None:
        raise invalid
    # Values sent with a transition are changes like any edit: the same field rights bind them.
    field_rights.check(ctx, actor, field_rights.changes_of(ctx, values), edit=False)
    if taken is None:
        guarded = [t for t, why in attempt.refused if why == "guard"]
        # The variant refused only for a date (a notice period) is the one the caller meant.
        refused = next(
            (
                t
                for t in guarded
                if t.guard is not None
                and evaluate(t.guard, attempt.fields, definition.calendars, dates_hold=True)
            ),
            guarded[0],
        )
        raise guard_failed(definition, trigger, refused, lang, attempt.fields)
    if not actor.is_system:
        refuse_missing(definition, required_by(definition, taken), merged, taken, trigger, comment, lang)
    if taken.requires_attachment:
        attachments.refuse_missing(ctx, taken, actor, trigger)
    return Move(taken, values)


def guard_failed(
    definition: Definition,
    trigger: str,
    transition: TransitionDef,
    lang: str = "en",
    fields: Mapping[str, Any] | None = None,
) -> Refusal:
    dated = (
        date_phrases.failed(definition, transition.guard, fields, lang)
        if transition.guard and fields
        else None
    )
    if dated:
        why = dated  # which date, and by how much: more than any fixed guard_message can say
    elif transition.guard_message:
        why = transition.guard_message.get(lang)
    elif transition.guard:
        why = say("condition", lang, condition=phrases.condition(definition, transition.guard, lang))
    else:
        why = say("no_condition", lang)
    named = phrases.action(definition, trigger, lang)
    return Refusal(RefusalKind.GuardFailed, say("guard_failed", lang, action=named, why=why))


def required_by(definition: Definition, transition: TransitionDef) -> list[str]:
    """The fields a transition asks for: its own and those its target state requires."""
    target = definition.state(transition.to)
    return list(dict.fromkeys(transition.required_fields + (target.required if target else [])))


def refuse_missing(
    definition: Definition,
    required: list[str],
    values: Mapping[str, Any],
    transition: TransitionDef,
    trigger: str,
    comment: str | None,
    lang: str = "en",
) -> None:
    """Refuse when a required field is empty or a required comment is missing."""
    needed = say("required", lang)
    missing = [n for n in required if is_empty(values.get(n))]
    errors = [{"path": f"fields.{n}", "message": needed} for n in missing]
    names = [words.field(definition, n, lang) for n in missing]
    if transition.comment_required and not (comment and comment.strip()):
        errors.append({"path": "comment", "message": needed})
        names.append(say("comment", lang))
    if errors:
        named = phrases.action(definition, trigger, lang)
        raise Refusal(
            RefusalKind.MissingFields,
            say("needs", lang, action=named, fields=phrases.listed(names, lang)),
            errors,
        )
