"""Records: the searchable list, and one record with its fields, actions, clocks, approvals and history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.auth import Principal
from api.deps import SessionDep, SettingsDep, TemporalClientDep
from api.idempotency import update_id
from api.schemas import RecordSummary
from api.services import actions, search
from api.services import definitions as defs
from api.services import records as reads
from api.web import attachments, create, editing, forms, i18n, progress, sla_hours
from api.web.common import PageRoute, PostUser, User, is_htmx, render
from api.web.record_list import QUEUES, ListFilters, list_page
from cmdb.named import named_cis
from definitions.diagram import to_mermaid
from definitions.model import BUILTIN_FIELDS, Definition
from workflows.contracts import ApprovalTask, FieldSpec, RecordSnapshot
from workflows.engine import references
from workflows.engine.references import is_ci_field

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RecordRef = Annotated[str, Path(min_length=1, max_length=100)]
# Built-in fields shown in the header of a record, not again in its field list.
HEADER_FIELDS = {"title", "requester", "assignee", "assignment_group", "priority"}


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.get("/ui/records")
def records(
    request: Request,
    user: User,
    session: SessionDep,
    filters: ListFilters,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    page, found = list_page(request, user, session, filters, _blank(cursor))
    chosen = forms.definition(session, filters["definition"]) if filters["definition"] else None
    lang = i18n.language(request)

    def state_of(r: RecordSummary) -> str:
        return state_label(forms.definition(session, r.definition, r.definition_version), r.state, lang)

    context: dict[str, Any] = {
        "page": page,
        "state_of": state_of,
        "filters": filters,
        "drill": found,
        "export_query": urlencode({k: v for k, v in request.query_params.items() if k != "cursor"}),
        "queues": QUEUES,
        "definitions": defs.list_definitions(session),
        "states": chosen.states if chosen else [],
        "can_create": bool(create.startable(session, user, lang)),
    }
    if is_htmx(request) and request.headers.get("hx-target") == "results":
        return render(request, "partials/record_rows.html", user, **context)
    return render(request, "records.html", user, **context)


@dataclass
class FieldView:
    name: str
    label: str
    type: str
    value: Any
    display: str
    reference: str | None = None
    cis: list[tuple[int, str]] | None = None  # a ci field's CIs: (id, name) for links to their pages


@dataclass
class TransitionForm:
    trigger: str
    label: str
    to_label: str
    fields: list[tuple[FieldSpec, str, list[tuple[str, str]]]]  # spec, input kind, enum options
    comment_required: bool
    key: str


def _value_label(d: Definition | None, name: str, value: Any, lang: str) -> str:
    spec = d.field(name) if d else None
    if spec and spec.value_labels and str(value) in spec.value_labels:
        return i18n.pick(spec.value_labels[str(value)], lang, str(value))
    return str(value)


def checklist_display(spec: Any, value: Any, lang: str) -> str:
    """A checklist's answers in one line: each answered item, its result and note."""
    answers = value if isinstance(value, dict) else {}
    words = {"pass": "checklist.pass", "fail": "checklist.fail", "n/a": "checklist.na"}
    parts = []
    for item in spec.items or []:
        answer = answers.get(item.key)
        if isinstance(answer, dict):
            result = i18n.translate(lang, words.get(str(answer.get("result")), "checklist.result"))
            note = f" ({answer['note']})" if answer.get("note") else ""
            parts.append(f"{i18n.pick(item.label, lang, item.key)}: {result}{note}")
    return "; ".join(parts)


def field_views(
    snap: RecordSnapshot, d: Definition | None, lang: str, ci_names: dict[int, str] | None = None
) -> list[FieldView]:
    hidden = set(snap.hidden_fields) | HEADER_FIELDS
    order = [f.name for f in d.fields] if d else []
    names = [n for n in order if n in snap.fields] + sorted(n for n in snap.fields if n not in order)
    views = []
    for name in names:
        value = snap.fields.get(name)
        if name in hidden or value in (None, "", []):
            continue
        spec = d.field(name) if d else None
        kind = spec.type if spec else "string"
        if kind == "datetime":
            display = ""
        elif kind == "bool":
            display = i18n.translate(lang, "yes" if value else "no")
        elif kind == "checklist" and spec is not None:
            display = checklist_display(spec, value, lang)
        elif isinstance(value, list):
            display = ", ".join(_value_label(d, name, v, lang) for v in value)
        else:
            display = _value_label(d, name, value, lang)
        views.append(
            FieldView(
                name=name,
                label=i18n.pick(spec.label if spec else None, lang, i18n.humanize(name)),
                type=kind,
                value=value,
                display=display,
                reference=spec.reference if spec and kind == "reference" else None,
                cis=_cis_of(value, ci_names or {}) if spec is not None and is_ci_field(spec) else None,
            )
        )
    return views


def _cis_of(value: Any, names: dict[int, str]) -> list[tuple[int, str]]:
    ids = value if isinstance(value, list) else [value]
    return [(int(i), names.get(int(i), f"#{i}")) for i in ids if isinstance(i, int)]


def record_ci_names(session: Session, snap: RecordSnapshot, d: Definition | None) -> dict[int, str]:
    """The names of the CIs the record's `ci` fields name (one query), for its page."""
    if d is None:
        return {}
    named = references.cis_named(d, snap.fields) or {}
    ids = {ci for cis in named.values() for ci in cis}
    return {ci_id: name for ci_id, name, _cls, _retired in named_cis(session, ids)}


@dataclass
class TimelineWords:
    """The definition's words for what the history names by key: actions, fields, approval steps and
    levels, and the engine's own actors (`system:sla` is "系统（服务级别）")."""

    actions: dict[str, str]
    fields: dict[str, str]
    steps: dict[str, str]
    levels: dict[str, str]
    lang: str

    def actor(self, name: str) -> str:
        if not name.startswith("system:"):
            return name
        kind = name.removeprefix("system:").split(":")[0]  # system:sla:resolution, system:approval:cab
        if name.startswith("system:schedule:"):  # a scheduled record's start (recurring/store.py)
            kind = "scheduled"
        label = i18n.translate(self.lang, f"actor.system.{kind}")
        return label if label != f"actor.system.{kind}" else i18n.translate(self.lang, "actor.system")

    def field_list(self, names: Any) -> str:
        return ("、" if self.lang == "zh" else ", ").join(self.fields.get(n, i18n.humanize(n)) for n in names)


def timeline_words(d: Definition | None, lang: str) -> TimelineWords:
    if d is None:
        return TimelineWords({}, {}, {}, {}, lang)
    actions: dict[str, str] = {}
    for t in d.transitions:
        if t.trigger not in actions or (t.label and actions[t.trigger] == i18n.humanize(t.trigger)):
            actions[t.trigger] = i18n.pick(t.label, lang, i18n.humanize(t.trigger))
    return TimelineWords(
        actions=actions,
        fields={f.name: i18n.pick(f.label, lang, i18n.humanize(f.name)) for f in d.fields}
        | {c.name: i18n.pick(c.label, lang, i18n.humanize(c.name)) for c in d.counters},
        steps={a.name: i18n.pick(a.label, lang, i18n.humanize(a.name)) for a in d.approvals},
        levels={
            lv.name: i18n.pick(lv.label, lang, i18n.humanize(lv.name)) for a in d.approvals for lv in a.levels
        },
        lang=lang,
    )


def state_label(d: Definition | None, state: str, lang: str) -> str:
    spec = d.state(state) if d else None
    return i18n.pick(spec.label if spec else None, lang, state)


def reference_choices(
    session: Session, user: Principal, snap: RecordSnapshot
) -> dict[str, list[tuple[str, str]]]:
    """For each checked reference field the forms ask for, the records it may name (a standard
    change's approved templates), as the caller may list them: offered as a choice, not typed."""
    out: dict[str, list[tuple[str, str]]] = {}
    for t in snap.available_transitions:
        for spec in t.required_fields:
            if spec.reference and spec.reference_states and spec.name not in out:
                items = [
                    item
                    for state in spec.reference_states
                    for item in search.list_records(
                        session=session, user=user, definition=spec.reference, state=state, limit=200
                    ).items
                ]
                out[spec.name] = [(i.number, f"{i.number} {i.title}") for i in items]
    return out


def transition_forms(
    snap: RecordSnapshot,
    d: Definition | None,
    lang: str,
    choices: dict[str, list[tuple[str, str]]] | None = None,
) -> list[TransitionForm]:
    out = []
    for t in snap.available_transitions:
        inputs = []
        for spec in t.required_fields:
            if spec.label is None and spec.name in BUILTIN_FIELDS:  # assignee, group: the page's words
                spec = spec.model_copy(update={"label": editing.builtin_label(spec.name)})
            if choices is not None and spec.name in choices:
                inputs.append((spec, "select", choices[spec.name]))
                continue
            options = [(v, _value_label(d, spec.name, v, lang)) for v in (spec.values or [])]
            inputs.append((spec, forms.input_kind(spec), options))
        out.append(
            TransitionForm(
                trigger=t.trigger,
                label=i18n.pick(t.label, lang, t.trigger.replace("_", " ")),
                to_label=state_label(d, t.to, lang),
                fields=inputs,
                comment_required=t.comment_required,
                key=secrets.token_urlsafe(12),
            )
        )
    return out


def may_decide(task: ApprovalTask, user: Principal) -> bool:
    """Offer the buttons to whoever the task names, by name or group, including those separation of
    duties excludes: the workflow refuses them with the rule, which is what they need to read."""
    if task.state != "pending" or any(user.username in (d.by, d.substitute) for d in task.decisions):
        return False
    return (
        user.username in task.eligible
        or user.username in task.excluded
        or bool(set(user.groups) & set(task.groups))
    )


@router.get("/ui/records/{ref}")
async def record(
    request: Request,
    ref: RecordRef,
    user: User,
    session: SessionDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> Response:
    snap = await reads.get_record(session=session, client=client, ref=ref, user=user)
    lang = i18n.language(request)
    d = forms.definition(session, snap.definition, snap.definition_version)
    history = reads.history(session=session, user=user, ref=snap.id)
    transitions = transition_forms(snap, d, lang, reference_choices(session, user, snap))
    names = {s.name: i18n.pick(s.label, lang, s.name) for s in d.states} if d else {}
    visited = {s for h in history for s in (h.from_state, h.to_state) if s}
    lead = progress.primary(d, snap, [t.to for t in snap.available_transitions]) if d else None
    if lead:  # the likely next step first, the others behind it
        transitions.insert(0, transitions.pop(lead))
    return render(
        request,
        "record.html",
        user,
        snap=snap,
        d=d,
        state_name=state_label(d, snap.state, lang),
        fields=field_views(snap, d, lang, record_ci_names(session, snap, d)),
        transitions=transitions,
        steps=progress.steps(d, snap, names, visited) if d else [],
        resumes=sla_hours.resumes_at(session, d, snap, datetime.now(UTC)) if d else {},
        history=list(reversed(history)),
        diagram=to_mermaid(d, lang=lang, current=snap.state) if d else "",
        state_names=names,
        words=timeline_words(d, lang),
        may_decide=lambda task: may_decide(task, user),
        decide_key=lambda: secrets.token_urlsafe(12),
        local_input=forms.local_input,
        edit=editing.edit_form(d, snap, lang),
        **attachments.context(session, user, snap.id, settings),
    )


@router.post("/ui/records/{ref}/transitions")
async def fire(
    request: Request,
    ref: RecordRef,
    user: PostUser,
    session: SessionDep,
    client: TemporalClientDep,
) -> Response:
    form = dict(await request.form())
    trigger = str(form.get("trigger", ""))[:64]
    current = await reads.get_record(session=session, client=client, ref=ref, user=user)
    specs = next((t.required_fields for t in current.available_transitions if t.trigger == trigger), [])
    specs = [s for s in specs if s.editable]  # a disabled control is not posted: keep the current value
    snap = await actions.fire_transition(
        session=session,
        client=client,
        user=user,
        ref=ref,
        trigger=trigger,
        fields=forms.field_values(form, specs),
        comment=str(form.get("comment", "")).strip() or None,
        update_id=update_id(user.username, str(form.get("key", ""))[:64] or None),
    )
    target = f"/ui/records/{snap.number}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/ui/records/{ref}/comments")
async def comment(
    request: Request,
    ref: RecordRef,
    user: PostUser,
    session: SessionDep,
    client: TemporalClientDep,
    body: Annotated[str, Form(min_length=1, max_length=20000)],
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    out = await actions.add_comment(
        session=session,
        client=client,
        user=user,
        ref=ref,
        body=body,
        update_id=update_id(user.username, key or None),
    )
    target = f"/ui/records/{out.number}#history"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
