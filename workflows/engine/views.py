"""Read views: what an actor may do next, how a field is described, and the record's snapshot (what the
API answers and the read model stores). Reading changes nothing."""

from __future__ import annotations

from datetime import datetime

from definitions import checklist
from definitions.guards import could_pass, is_empty
from definitions.model import Definition
from workflows import sla as clocks
from workflows.contracts import Actor, AvailableTransition, FieldSpec, RecordSnapshot
from workflows.engine import field_rights
from workflows.engine.moves import required_by
from workflows.engine.record import RecordContext


def counts_asked(ctx: RecordContext, asked: list[str]) -> frozenset[str]:
    """A checklist asked for with the transition may be answered with it: its counts are unknown."""
    return frozenset(
        f"{n}.{count}" for n in asked if ctx.field_types.get(n) == "checklist" for count in checklist.COUNTS
    )


def available(ctx: RecordContext, actor: Actor) -> list[AvailableTransition]:
    """The triggers `actor` may fire now, each once, as the variant that would fire: of a trigger's
    transitions from this state that the actor may fire, the first (the machine's order) whose guard can
    still pass. A guard can still pass unless it fails whatever the actor enters for the fields they are
    asked for and that are empty now (it is checked when the trigger fires). Each field asked for says
    whether this actor may change it (field rights)."""
    definition, record = ctx.definition, ctx.record
    result: list[AvailableTransition] = []
    seen: set[str] = set()
    for t in definition.transitions:
        if t.trigger in seen or t.allowed is None or record.state not in definition.sources(t):
            continue
        if not ctx.permits(actor, t.allowed):
            continue
        asked = required_by(definition, t)
        if t.guard is not None:
            unknown = frozenset(n for n in asked if is_empty(record.fields.get(n))) | counts_asked(ctx, asked)
            if not could_pass(t.guard, {**record.fields, **ctx.guard_values(record.fields)}, unknown):
                continue
        seen.add(t.trigger)
        result.append(
            AvailableTransition(
                trigger=t.trigger,
                to=t.to,
                label=t.label.model_dump() if t.label else None,
                required_fields=[
                    field_spec(
                        definition,
                        n,
                        required=True,
                        editable=field_rights.may_change(ctx, actor, n, edit=False),
                    )
                    for n in asked
                ],
                comment_required=t.comment_required,
            )
        )
    return result


def editable(ctx: RecordContext, actor: Actor) -> list[str]:
    """The fields `actor` may change now by an edit: none in a final state; otherwise those the field
    rights (or the definition's editors) let them change, minus the state's hidden and read-only ones."""
    state = ctx.state
    if state is None or state.final or not field_rights.may_edit_any(ctx, actor):
        return []
    closed = set(state.hidden) | set(state.readonly)
    return [
        name
        for name in ctx.field_types
        if name not in closed and field_rights.may_change(ctx, actor, name, edit=True)
    ]


def field_spec(definition: Definition, name: str, *, required: bool, editable: bool = True) -> FieldSpec:
    spec = definition.field(name)
    return FieldSpec(
        name=name,
        type=definition.field_type(name) or "string",
        required=required,
        values=spec.values if spec else None,
        label=spec.label.model_dump() if spec and spec.label else None,
        editable=editable,
        reference=spec.reference if spec else None,
        reference_states=spec.reference_states if spec else None,
        items=[item.model_dump() for item in spec.items] if spec and spec.items else None,
    )


def snapshot(ctx: RecordContext, actor: Actor | None, now: datetime) -> RecordSnapshot:
    """The record as it is at `now` (SLA views count to `now`); with `actor`, what they may do next."""
    definition, record, pinned = ctx.definition, ctx.record, ctx.pinned
    state = ctx.state
    assert state is not None
    fields = record.fields
    pm = definition.priority_matrix
    priority = fields.get(pm.priority_field if pm else "priority")
    slas = [
        clocks.view(definition, sla, record.slas[sla.name], now)
        for sla in definition.slas
        if sla.name in record.slas
    ]
    return RecordSnapshot(
        id=record.record_id,
        number=record.number,
        definition=definition.key,
        definition_version=pinned.version,
        definition_hash=pinned.hash,
        title=str(fields.get("title", "")),
        state=record.state,
        state_label=state.label.model_dump() if state.label else None,
        state_category=state.category,
        final=state.final,
        fields=dict(fields),
        priority=None if priority is None else str(priority),
        requester=fields.get("requester"),
        assignee=fields.get("assignee"),
        assignment_group=fields.get("assignment_group"),
        created_at=record.created_at,
        updated_at=record.updated_at,
        responded_at=record.responded_at,
        slas=slas,
        approvals=[t.model_copy(deep=True) for t in record.approvals],
        available_transitions=available(ctx, actor) if actor else [],
        editable_fields=editable(ctx, actor) if actor else [],
        hidden_fields=list(state.hidden),
        readonly_fields=list(state.readonly),
        links=list(record.links),
        seq=record.seq,
    )
