"""A new record from the page: choose a process, fill the form its start fields make, submit.

The form is built from the same `start_fields` as GET /api/v1/definitions/{key} and submitted through
the same `actions.create_record` as POST /api/v1/processes. Each rendered form carries its own
idempotency key, so a double submit (or a retry after a lost answer) creates one record. A refusal
re-renders the form with what was entered and each problem next to its field.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.auth import Principal
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalClientDep
from api.idempotency import fingerprint, idempotent
from api.problems import ProblemError, not_found, unprocessable
from api.services import actions
from api.services import definitions as defs
from api.web import editing, forms, i18n
from api.web.common import PageRoute, PostUser, User, is_htmx, render
from core.store import latest_published
from definitions.model import BUILTIN_FIELDS, Definition
from workflows.contracts import FieldSpec

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TITLE_MAX = 300


@dataclass
class Startable:
    key: str
    title: str
    description: str
    version: int
    prefix: str


def may_start(d: Definition, user: Principal) -> bool:
    """The engine's start check (ProcessEngine.create): a role in the definition's start_roles."""
    return bool(set(user.roles) & set(d.start_roles))


def startable(session: Session, user: Principal, lang: str) -> list[Startable]:
    out = []
    for item in defs.list_definitions(session):
        if item.published_version is None:
            continue
        d = forms.definition(session, item.key, item.published_version)
        if d is None or not may_start(d, user):
            continue
        out.append(
            Startable(
                key=item.key,
                title=i18n.pick(d.title, lang, item.key),
                description=i18n.pick(d.description, lang) if d.description else "",
                version=item.published_version,
                prefix=d.number_prefix,
            )
        )
    return sorted(out, key=lambda s: s.title.lower())


def start_specs(d: Definition) -> list[FieldSpec]:
    """The API's start fields, with the built-ins (assignee, group) named as the rest of the page does."""
    return [
        s.model_copy(update={"label": editing.builtin_label(s.name)})
        if s.label is None and s.name in BUILTIN_FIELDS
        else s
        for s in defs.start_fields(d)
    ]


def creator_locked(d: Definition, user: Principal) -> frozenset[str]:
    """Start fields a `field_rights` rule of the initial state keeps from this creator."""
    return frozenset(s.name for s in defs.start_fields(d, user) if not s.editable)


def _published(session: Session, key: str) -> tuple[Definition, int]:
    row = latest_published(session, key)
    d = forms.definition(session, key, row.version) if row else None
    if row is None or d is None:
        raise not_found(f"no published definition '{key}'")
    return d, row.version


def _field_errors(problem: ProblemError, lang: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Problems by input name (`fields.impact` → `impact`), and those that belong to no input."""
    by_field: dict[str, str] = {}
    other: list[dict[str, str]] = []
    for e in problem.errors or []:
        path = str(e.get("path", ""))
        name = path.removeprefix("fields.")
        message = str(e.get("message", ""))
        if message == "required":
            message = i18n.translate(lang, "form.required")
        if name and "." not in name and name not in ("definition",):
            by_field[name] = message
        else:
            other.append({"path": path, "message": message})
    return by_field, other


def _render_form(
    request: Request,
    user: Principal,
    session: Session,
    key: str,
    *,
    values: dict[str, Any] | None = None,
    title: str = "",
    form_key: str | None = None,
    problem: ProblemError | None = None,
    status_code: int = 200,
) -> Response:
    lang = i18n.language(request)
    d, version = _published(session, key)
    if values is None:  # a fresh form shows the definition's defaults
        values = {f.name: f.default for f in d.fields if f.default is not None}
    errors, other = _field_errors(problem, lang) if problem else ({}, [])
    controls = _inputs(d, user, lang, values)
    return render(
        request,
        "record_new.html",
        user,
        status_code=status_code,
        d=d,
        key=key,
        version=version,
        process=i18n.pick(d.title, lang, key),
        # The requester's form keeps the definition's order (what happened first); the full form
        # groups short controls before wide ones.
        inputs=controls if _portal(d, user) else forms.laid_out(controls),
        title_value=title,
        form_key=form_key or secrets.token_urlsafe(16),
        errors=errors,
        other_errors=other,
        problem=problem,
        allowed=may_start(d, user),
        start_roles=", ".join(d.start_roles),
        choices=[],
        priority_note=_priority_note(d, lang),
    )


def starts_as_requester(d: Definition, user: Principal) -> bool:
    """Whether the user may start this process only as a requester (a self-service portal's user)."""
    return set(user.roles) & set(d.start_roles) == {"requester"}


def _portal(d: Definition, user: Principal) -> bool:
    return d.requester_form is not None and starts_as_requester(d, user)


def _inputs(d: Definition, user: Principal, lang: str, values: dict[str, Any]) -> list[forms.Input]:
    locked = creator_locked(d, user)
    specs = start_specs(d)
    if d.requester_form is not None and _portal(d, user):
        # The definition's requester form: these fields, in its order (validated to hold every field
        # a new record requires), instead of the back-office form.
        by_name = {s.name: s for s in specs}
        specs = [by_name[name] for name in d.requester_form if name in by_name]
    controls = forms.inputs(specs, d, lang, values, locked)
    for control in controls:
        if control.name in locked:
            control.lock_note = "form.not_yours"
    return controls


def _priority_note(d: Definition, lang: str) -> str:
    matrix = d.priority_matrix
    if matrix is None:
        return ""

    def label(name: str) -> str:
        spec = d.field(name)
        return i18n.pick(spec.label if spec else None, lang, i18n.humanize(name))

    return i18n.translate(
        lang, "new.priority_from", a=label(matrix.impact_field), b=label(matrix.urgency_field)
    )


@router.get("/ui/records/new")
def new_record(
    request: Request,
    user: User,
    session: SessionDep,
    definition: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if definition:
        return _render_form(request, user, session, definition)
    choices = startable(session, user, i18n.language(request))
    return render(request, "record_new.html", user, choices=choices, d=None)


async def _create_once(
    engine: Any, user: Principal, form_key: str | None, content: dict[str, Any], act: Any
) -> str:
    """Create through the API's idempotency store, keyed by the form's key: a form sent twice (a
    double click, a retry) creates one record, and the same key with other content is refused (422),
    as the API refuses a reused Idempotency-Key with another body. Returns the record's number."""

    async def run() -> tuple[int, Any]:
        snap = await act()
        return 201, {"number": snap.number}

    key = f"ui:new:{form_key}" if form_key else None
    digest = fingerprint("POST", "/ui/records/new", content) if key else ""
    answer = await idempotent(engine, username=user.username, key=key, digest=digest, run=run)
    data = json.loads(bytes(answer.body))
    if answer.status_code >= 400:  # a refusal this form's key got before: the same answer again
        raise ProblemError(answer.status_code, str(data.get("detail", "")), errors=data.get("errors"))
    return str(data["number"])


@router.post("/ui/records/new")
async def create(
    request: Request,
    user: PostUser,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> Response:
    form = dict(await request.form())
    key = str(form.get("definition", ""))[:64]
    form_key = str(form.get("key", ""))[:64] or None
    title = str(form.get("title", "")).strip()[:TITLE_MAX]
    d, _ = _published(session, key)
    locked = creator_locked(d, user)  # disabled in the form, so never posted (a checkbox reads as false)
    values = forms.field_values(form, [s for s in start_specs(d) if s.name not in locked])
    try:
        if not title:
            raise unprocessable("a record needs a title", [{"path": "title", "message": "required"}])
        number = await _create_once(
            engine,
            user,
            form_key,
            {"definition": key, "title": title, "fields": values},
            lambda: actions.create_record(
                client=client,
                engine=engine,
                task_queue=settings.task_queue,
                user=user,
                definition=key,
                title=title,
                fields=values,
                idempotency_key=form_key,
            ),
        )
    except ProblemError as problem:
        # htmx swaps only 2xx answers; without it, the browser shows the page with its real status.
        # A refusal created nothing: the corrected form goes out under a new key (the old one keeps
        # its answer, as an Idempotency-Key does).
        return _render_form(
            request,
            user,
            session,
            key,
            values=values,
            title=title,
            form_key=secrets.token_urlsafe(16),
            problem=problem,
            status_code=200 if is_htmx(request) else problem.status,
        )
    target = f"/ui/records/{number}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
