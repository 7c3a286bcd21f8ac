"""Changing a record's fields outside a transition: which fields the form offers, and the route.

The form mirrors the state's flags (hidden fields are left out) and what the workflow says the caller
may change (`editable_fields`: the state's read-only fields, the definition's `editors` and
`field_rights`, separation of duties): any other field is shown disabled, and the form is offered only
when something is editable. The workflow still checks every change (api.actions.update_fields, the same
call as PATCH /api/v1/processes/{id}) and its refusal is shown in the form.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, TemporalClientDep
from api.idempotency import update_id
from api.services import actions, records
from api.services.definitions import START_BUILTINS
from api.web import forms, i18n
from api.web.common import PageRoute, PostUser, is_htmx
from definitions.model import BUILTIN_FIELDS, Definition
from workflows.contracts import FieldSpec, RecordSnapshot

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RecordRef = Annotated[str, Path(min_length=1, max_length=100)]


def builtin_label(name: str) -> dict[str, str]:
    return {lang: i18n.translate(lang, f"field.{name}") for lang in i18n.LANGUAGES}


def editable_specs(d: Definition, snap: RecordSnapshot) -> list[FieldSpec]:
    """Title, the declared fields and the assignment built-ins, minus the state's hidden fields and
    the priority the matrix derives (it follows impact and urgency, nobody sets it)."""
    hidden = set(snap.hidden_fields)
    derived = {d.priority_matrix.priority_field} if d.priority_matrix else set()
    specs = [FieldSpec(name="title", type="string", required=True, label=builtin_label("title"))]
    specs += [
        FieldSpec(
            name=f.name,
            type=f.type,
            values=f.values,
            label=f.label.model_dump() if f.label else None,
            reference=f.reference,
            reference_states=f.reference_states,
            items=[item.model_dump() for item in f.items] if f.items else None,
        )
        for f in d.fields
        if f.name not in derived and f.name not in BUILTIN_FIELDS
    ]
    declared = {f.name for f in d.fields}
    specs += [
        FieldSpec(name=n, type=BUILTIN_FIELDS[n], label=builtin_label(n))
        for n in START_BUILTINS
        if n not in declared
    ]
    state = d.state(snap.state)
    required = set(state.required) if state else set()
    return [
        s.model_copy(update={"required": s.required or s.name in required})
        for s in specs
        if s.name not in hidden
    ]


def may_edit(snap: RecordSnapshot) -> bool:
    """Whether the workflow said this caller may change any field (a snapshot asked for them)."""
    return not snap.final and bool(snap.editable_fields)


@dataclass
class EditForm:
    inputs: list[forms.Input]
    key: str


def edit_form(d: Definition | None, snap: RecordSnapshot, lang: str) -> EditForm | None:
    if d is None or not may_edit(snap):
        return None
    specs = editable_specs(d, snap)
    state_locked = frozenset(snap.readonly_fields)
    not_theirs = frozenset(s.name for s in specs if s.name not in snap.editable_fields) - state_locked
    controls = forms.inputs(specs, d, lang, snap.fields, state_locked | not_theirs)
    for control in controls:
        if control.name in not_theirs:
            control.lock_note = "form.not_yours"
    return EditForm(inputs=forms.laid_out(controls), key=secrets.token_urlsafe(12))


@router.post("/ui/records/{ref}/fields")
async def edit(
    request: Request, ref: RecordRef, user: PostUser, session: SessionDep, client: TemporalClientDep
) -> Response:
    form = dict(await request.form())
    current = await records.get_record(session=session, client=client, ref=ref, user=user)
    d = forms.definition(session, current.definition, current.definition_version)
    # Only what the caller may change: a disabled control is not posted (a checkbox would read as false).
    specs = [s for s in editable_specs(d, current) if s.name in current.editable_fields] if d else []
    changes = forms.changed_values(form, specs, current.fields)
    comment = str(form.get("comment", "")).strip() or None
    target = f"/ui/records/{current.number}"
    if changes or comment:
        await actions.update_fields(
            session=session,
            client=client,
            user=user,
            ref=ref,
            fields=changes,
            comment=comment,
            update_id=update_id(user.username, str(form.get("key", ""))[:64] or None),
        )
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
