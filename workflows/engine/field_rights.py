"""Field rights in the engine: whether a person may change a field of this record now, checked for every
change a person makes (an edit, or a value sent with a transition) whichever door it came through (the
API, the web page, a Temporal client calling the workflow), because the Update validators call it.

Two rules, in this order: separation of duties protects the fields it reads from the people they name
(`definitions.fieldrights.protected_fields`; no definition can lower it), then the definition's
`field_rights` (or, for an edit of a field no rule covers, its `editors`) say who may change the field in
this state. Only a change counts: sending a field's current value again is not one. The engine's own
changes (effects, approvals, timers: system actors) are the definition's doing and are not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from definitions.fieldrights import protected_fields, rules_for
from definitions.model import FieldRight, Permission
from workflows.contracts import Actor
from workflows.engine import words
from workflows.engine.policies import users_in
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind


def changes_of(ctx: RecordContext, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that differ from the record's (checked values: normalised to their field's type)."""
    fields = ctx.record.fields
    return {name: value for name, value in values.items() if fields.get(name) != value}


def may_edit_any(ctx: RecordContext, actor: Actor) -> bool:
    """Whether an edit by `actor` could change anything here: the definition's editors admit them, or a
    rule that applies in this state does."""
    d, state = ctx.definition, ctx.record.state
    rules = [r for r in d.field_rights if not r.states or state in r.states]
    return ctx.permits(actor, d.editors) or any(ctx.permits(actor, r.editors) for r in rules)


def may_change(ctx: RecordContext, actor: Actor, name: str, *, edit: bool) -> bool:
    """Whether `actor` may change field `name` now (to a value that does not name themselves)."""
    if actor.is_system:
        return True
    return _protection(ctx, actor, name, None) is None and _admits(ctx, actor, name, edit=edit)[0]


def check(ctx: RecordContext, actor: Actor, changes: Mapping[str, Any], *, edit: bool) -> None:
    """Refuse the first rule the changes break (separation of duties first), naming each field."""
    if actor.is_system or not changes:
        return
    lang = actor.language
    sod = [(name, why) for name in changes if (why := _protection(ctx, actor, name, changes[name]))]
    if sod:
        _refuse(RefusalKind.SeparationOfDuties, sod)
    denied = []
    for name in changes:
        ok, rules = _admits(ctx, actor, name, edit=edit)
        if not ok:
            denied.append((name, _denial(ctx, actor, name, rules, lang)))
    if denied:
        _refuse(RefusalKind.NotAllowed, denied)


def check_start(ctx: RecordContext, actor: Actor, names: list[str]) -> None:
    """At creation only the rules bind, for the fields the creator chose (protection starts once the
    record exists: nobody has decided anything yet, and an integrator may name another requester)."""
    if actor.is_system:
        return
    denied = []
    for name in names:
        rules = rules_for(ctx.definition, name, ctx.record.state)
        if rules and not any(ctx.permits(actor, r.editors) for r in rules):
            denied.append((name, _denial(ctx, actor, name, rules, actor.language)))
    if denied:
        _refuse(RefusalKind.NotAllowed, denied)


def _refuse(kind: RefusalKind, found: list[tuple[str, str]]) -> None:
    errors = [{"path": f"fields.{name}", "message": why} for name, why in found]
    raise Refusal(kind, "; ".join(why for _, why in found), errors)


def _admits(ctx: RecordContext, actor: Actor, name: str, *, edit: bool) -> tuple[bool, list[FieldRight]]:
    """Whether the rights admit the change, and the rules that govern the field here. Without rules an
    edit needs the definition's editors; a value sent with a transition needs nothing more than the
    right to fire it."""
    rules = rules_for(ctx.definition, name, ctx.record.state)
    if rules:
        return any(ctx.permits(actor, r.editors) for r in rules), rules
    return (not edit or ctx.permits(actor, ctx.definition.editors)), rules


def _protection(ctx: RecordContext, actor: Actor, name: str, new: Any) -> str | None:
    """Why separation of duties forbids `actor` to change field `name` (to `new`), or None. The person a
    protected field names may not change it (they would slip out of the exclusion); a person who decided
    an approval that excludes whoever the field names may not put themselves in it afterwards."""
    steps = protected_fields(ctx.definition).get(name)
    if steps is None or not ctx.protect_fields:
        return None
    d, record, user, lang = ctx.definition, ctx.record, actor.username, actor.language
    if user in users_in(record.fields.get(name)):
        named = [words.step(d, s, lang) for s in steps]
        return words.sod_named(user, words.field(d, name, lang), record.number, named, lang)
    if new is None or user not in users_in(new):
        return None
    for task in record.approvals:
        if task.step in steps and any(dec.by == user for dec in task.decisions):
            step = words.step(d, task.step, lang)
            return words.sod_decided(user, words.field(d, name, lang), record.number, step, lang)
    return None


def _denial(ctx: RecordContext, actor: Actor, name: str, rules: list[FieldRight], lang: str) -> str:
    d, record = ctx.definition, ctx.record
    field = words.field(d, name, lang)
    if not rules:
        who = words.who(d, d.editors, lang)
        return words.editors_only(actor.username, field, record.number, who, lang)
    perms: list[Permission] = [r.editors for r in rules]
    who = words.alternatives([words.who(d, p, lang) for p in perms], lang)
    labels = [r.label.get(lang) for r in rules if r.label is not None]
    state = words.state(d, record.state, lang) if any(r.states for r in rules) else None
    return words.rule_only(actor.username, field, record.number, labels, who, state, lang)
