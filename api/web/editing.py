"""Changing a record's fields outside a transition: which fields the form offers, and the route.

The form mirrors the state's flags (hidden fields are left out, read-only ones are disabled) and the
definition's `editors` permission decides whether it is offered at all; the workflow still checks
both (api.actions.update_fields, the same call as PATCH /api/v1/processes/{id}) and its refusal is
shown in the form. The check here only avoids offering a form that would be refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal
from api.deps import SessionDep, TemporalClientDep
from api.idempotency import update_id
from api.services import actions, records
from api.services.definitions import START_BUILTINS
from api.web import forms, i18n
from api.web.common import PageRoute, PostUser, is_htmx
from definitions.model import BUILTIN_FIELDS, Definition
from definitions.permissions import permits
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


def may_edit(d: Definition, snap: RecordSnapshot, user: Principal) -> bool:
    """The engine's own rule (definitions.permissions) for the definition's editors, on the snapshot."""
    if snap.final:
        return False
    return permits(
        d, d.editors, username=user.username, roles=user.roles, groups=user.groups, fields=snap.fields
    )


@dataclass
class EditForm:
    inputs: list[forms.Input]
    key: str


def edit_form(d: Definition | None, snap: RecordSnapshot, user: Principal, lang: str) -> EditForm | None:
    if d is None or not may_edit(d, snap, user):
        return None
    specs = editable_specs(d, snap)
    return EditForm(
        inputs=forms.laid_out(forms.inputs(specs, d, lang, snap.fields, frozenset(snap.readonly_fields))),
        key=secrets.token_urlsafe(12),
    )


@router.post("/ui/records/{ref}/fields")
async def edit(
    request: Request, ref: RecordRef, user: PostUser, session: SessionDep, client: TemporalClientDep
) -> Response:
    form = dict(await request.form())
    current = await records.get_record(session=session, client=client, ref=ref, user=user)
    d = forms.definition(session, current.definition, current.definition_version)
    specs = editable_specs(d, current) if d else []
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
