"""Checked references: a reference field with `reference_states` must name a record of its process in
one of those states (a standard change names an approved template of the standard-change catalogue).

The engine cannot read the read model, so a check comes in two halves: `wanted_*` says which values an
action needs looked up (pure, from the definition, the record and the values sent), the workflow looks
them up through the `resolve_references` local activity (its answer is recorded in the history, so a
replay decides the same way), and `check` refuses a value that names no record, a record of another
process, or one in a state the field does not allow. Only checked reference fields are ever looked up:
a definition without them (every run recorded before them) asks nothing, so old histories replay as
they were."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from definitions.model import Definition, FieldDef
from workflows.contracts import Actor, ResolveReferencesInput, ResolveReferencesResult
from workflows.engine import moves, words
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind

Wanted = dict[str, str]  # field name -> the value (record id or number) to look up


def checked_fields(definition: Definition) -> list[FieldDef]:
    return [f for f in definition.fields if f.type == "reference" and f.reference_states]


def wanted_in(definition: Definition, values: Mapping[str, Any]) -> Wanted:
    """The checked reference values among `values` (a value that is not a name is left to the type
    check, which refuses it before anything is looked up)."""
    return {
        f.name: value
        for f in checked_fields(definition)
        if isinstance(value := values.get(f.name), str) and value
    }


def wanted_for_fire(ctx: RecordContext, actor: Actor, trigger: str, supplied: Mapping[str, Any]) -> Wanted:
    """What firing `trigger` needs checked: the values sent, and the checked references the transition
    taken requires, as the record holds them (a template retired since it was chosen no longer lets a
    change through). A move the rules refuse anyway needs nothing: the handler refuses it."""
    if not checked_fields(ctx.definition):
        return {}
    try:
        move = moves.choose(ctx, actor, trigger, supplied, None)
    except Refusal:
        return wanted_in(ctx.definition, supplied)
    needed = moves.required_by(ctx.definition, move.transition)
    merged = {**ctx.record.fields, **move.values}
    return {
        **wanted_in(ctx.definition, {n: merged.get(n) for n in needed}),
        **wanted_in(ctx.definition, supplied),
    }


def lookup(definition: Definition, wanted: Wanted) -> ResolveReferencesInput:
    """What to ask the read model for `wanted`: the values, and the processes to word refusals with."""
    processes = sorted({f.reference for f in checked_fields(definition) if f.name in wanted and f.reference})
    return ResolveReferencesInput(refs=sorted(set(wanted.values())), processes=processes)


def check(definition: Definition, wanted: Wanted, result: ResolveReferencesResult, lang: str) -> None:
    """Refuse (InvalidFields) the values that name no record, another process's, or a record in a
    state the field does not allow; each by the field's label and the rule, in the caller's language."""
    by_ref = {r.ref: r for r in result.found}
    processes = {p.key: p for p in result.processes}
    errors: list[dict[str, str]] = []
    for name, value in wanted.items():
        spec = definition.field(name)
        if spec is None or not spec.reference or not spec.reference_states:
            continue
        words_of = processes.get(spec.reference)
        process = _text(words_of.title if words_of else None, spec.reference, lang)
        states = [_text(words_of.states.get(s) if words_of else None, s, lang) for s in spec.reference_states]
        rule = words.reference_rule(words.field(definition, name, lang), process, states, lang)
        record = by_ref.get(value)
        if record is None or record.definition != spec.reference:
            message = words.reference_unknown(rule, value, process, lang)
        elif record.state not in spec.reference_states:
            state = _text(words_of.states.get(record.state) if words_of else None, record.state, lang)
            message = words.reference_state(rule, record.number, state, lang)
        else:
            continue
        errors.append({"path": f"fields.{name}", "message": message})
    if errors:
        raise Refusal(RefusalKind.InvalidFields, "; ".join(e["message"] for e in errors), errors)


def _text(label: dict[str, str] | None, fallback: str, lang: str) -> str:
    if not label:
        return fallback
    return label.get("zh" if lang.startswith("zh") else "en") or fallback
