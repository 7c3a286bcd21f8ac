"""Checked references: a reference field with `reference_states` must name a record of its process in
one of those states (a standard change names an approved template of the standard-change catalogue),
and a `ci` field (or a list of `ci`) must name configuration items of the CMDB that are not retired,
of the classes the field allows (`ci_classes`).

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
from workflows.contracts import Actor, ReferencedCi, ResolveReferencesInput, ResolveReferencesResult
from workflows.engine import moves, words
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind

# field name -> what to look up: a record id or number (reference), or CMDB ids (ci, list of ci)
Wanted = dict[str, Any]


def is_ci_field(spec: FieldDef) -> bool:
    return spec.type == "ci" or (spec.type == "list" and spec.item_type == "ci")


def checked_fields(definition: Definition) -> list[FieldDef]:
    return [f for f in definition.fields if (f.type == "reference" and f.reference_states) or is_ci_field(f)]


def _ci_ids(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    # Values not yet normalised (a form's digits) count as their number; anything else is left to
    # the type check, which refuses it before anything is looked up.
    return [int(v) for v in items if (isinstance(v, int) and not isinstance(v, bool)) or str(v).isdigit()]


def wanted_in(definition: Definition, values: Mapping[str, Any]) -> Wanted:
    """The checked values among `values`."""
    wanted: Wanted = {}
    for f in checked_fields(definition):
        value = values.get(f.name)
        if is_ci_field(f):
            if value not in (None, "", []) and (ids := _ci_ids(value)):
                wanted[f.name] = ids
        elif isinstance(value, str) and value:
            wanted[f.name] = value
    return wanted


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
    # A CI the record already names is not checked again: an incident on a server retired since
    # must still be closable. Only a CI being set now is.
    held = wanted_in(ctx.definition, {n: merged.get(n) for n in needed})
    held = {name: value for name, value in held.items() if not isinstance(value, list)}
    return {**held, **wanted_in(ctx.definition, supplied)}


def cis_named(definition: Definition, fields: Mapping[str, Any]) -> dict[str, list[int]] | None:
    """What the record's `ci` fields name now (for the read model's CI index); None without such fields."""
    ci_fields = [f for f in definition.fields if is_ci_field(f)]
    if not ci_fields:
        return None
    named = {f.name: _ci_ids(fields.get(f.name)) for f in ci_fields if fields.get(f.name) not in (None, "")}
    return {name: ids for name, ids in named.items() if ids}


def lookup(definition: Definition, wanted: Wanted) -> ResolveReferencesInput:
    """What to ask the read model for `wanted`: the values, and the processes to word refusals with."""
    fields = [f for f in checked_fields(definition) if f.name in wanted]
    processes = sorted({f.reference for f in fields if f.reference and not is_ci_field(f)})
    refs = sorted({wanted[f.name] for f in fields if not is_ci_field(f)})
    cis = sorted({ci for f in fields if is_ci_field(f) for ci in wanted[f.name]})
    classes = sorted({c for f in fields if is_ci_field(f) for c in f.ci_classes or []})
    return ResolveReferencesInput(refs=refs, processes=processes, cis=cis, ci_classes=classes)


def check(definition: Definition, wanted: Wanted, result: ResolveReferencesResult, lang: str) -> None:
    """Refuse (InvalidFields) the values that name no record, another process's, or a record in a
    state the field does not allow; each by the field's label and the rule, in the caller's language."""
    by_ref = {r.ref: r for r in result.found}
    processes = {p.key: p for p in result.processes}
    errors: list[dict[str, str]] = []
    cis = {c.id: c for c in result.cis}
    for name, value in wanted.items():
        spec = definition.field(name)
        if spec is not None and is_ci_field(spec):
            errors += _ci_errors(definition, spec, value, cis, result.class_labels, lang)
            continue
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


def _ci_errors(
    definition: Definition,
    spec: FieldDef,
    ids: list[int],
    cis: Mapping[int, ReferencedCi],
    class_labels: Mapping[str, dict[str, str]],
    lang: str,
) -> list[dict[str, str]]:
    field = words.field(definition, spec.name, lang)
    errors: list[dict[str, str]] = []
    for ci_id in ids:
        ci = cis.get(ci_id)
        if ci is None:
            message = words.ci_unknown(field, ci_id, lang)
        elif ci.retired:
            message = words.ci_retired(field, ci.name, lang)
        elif spec.ci_classes and ci.class_name not in spec.ci_classes:
            allowed = [_text(class_labels.get(c), c, lang) for c in spec.ci_classes]
            message = words.ci_class(
                field, ci.name, _text(ci.class_label, ci.class_name, lang), allowed, lang
            )
        else:
            continue
        errors.append({"path": f"fields.{spec.name}", "message": message})
    return errors


def _text(label: Mapping[str, str] | None, fallback: str, lang: str) -> str:
    if not label:
        return fallback
    return label.get("zh" if lang.startswith("zh") else "en") or fallback
