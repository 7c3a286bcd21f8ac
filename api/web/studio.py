"""The definition studio: list, edit as YAML with validation as you type, diagram, draft, publish, compare.

Validation is the API's (`api.services.definitions.validation`, the same loader and validator), so the page
shows exactly the errors and paths a POST would get. Saving and publishing call the service functions
behind the API's process-owner routes, after the same role check.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.deps import EngineDep, SessionDep
from api.problems import ProblemError
from api.services import definitions as defs
from api.services import publication
from api.web import i18n
from api.web.common import OWNER_ROLES, STATIC, OwnerPage, OwnerPost, PageRoute, PostUser, User, render
from api.web.yamlpath import line_of
from core.db import session_scope
from core.settings import Settings
from definitions.diagram import to_mermaid
from definitions.issues import Issue
from definitions.loader import load_text
from definitions.schema import json_schema

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DefKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
Source = Annotated[str, Form(max_length=1_000_000)]
# A publishing form posts `confirmed=yes` once its owner confirmed (the page's dialog, or the
# confirmation page the server answers without it).
Confirmed = Annotated[str, Form(max_length=8)]

NEW_TEMPLATE = """\
key: my_process
title: {zh: 我的流程, en: My process}
number_prefix: MYP
owner: process_owner
fields:
  - {name: impact, type: enum, values: ["1", "2", "3"], label: {zh: 影响度, en: Impact}}
states:
  - {name: new, category: new, label: {zh: 新建, en: New}}
  - {name: in_progress, category: open, label: {zh: 处理中, en: In progress}}
  - {name: closed, category: closed, final: true, label: {zh: 已关闭, en: Closed}}
transitions:
  - {trigger: start, from: new, to: in_progress, allowed: {roles: [agent]}}
  - {trigger: close, from: in_progress, to: closed, allowed: {roles: [agent]}}
"""


@router.get("/ui/studio")
def studio(request: Request, user: User, session: SessionDep, done: str | None = None) -> Response:
    return render(request, "studio_list.html", user, items=defs.list_definitions(session), done=done)


def _checks(request: Request, source: str) -> dict[str, Any]:
    result = load_text(source)
    lang = i18n.language(request)
    diagram = to_mermaid(result.definition, lang=lang) if result.definition is not None else None
    # Each problem in the reader's language (definitions/issue_words.py), with the line it is on.
    issues = [(Issue(issue.path, issue.text(lang)), line_of(source, issue.path)) for issue in result.issues]
    return {"issues": issues, "diagram": diagram, "valid": result.ok}


def _editor(
    request: Request,
    user: User,
    session: SessionDep,
    *,
    key: str | None,
    version: int | None,
    source: str,
    status_code: int = 200,
    saved: str | None = None,
) -> Response:
    return render(
        request,
        "studio_edit.html",
        user,
        status_code=status_code,
        key=key,
        version=version,
        source=source,
        versions=defs.versions(session, key=key) if key else [],
        can_edit=user.has_role(*OWNER_ROLES),
        four_eyes=_four_eyes(request),
        saved=saved,
        has_editor=(STATIC / "vendor" / "studio-editor.js").exists(),
        **_checks(request, source),
    )


@router.get("/ui/studio/new")
def new_definition(request: Request, user: OwnerPage, session: SessionDep) -> Response:
    return _editor(request, user, session, key=None, version=None, source=NEW_TEMPLATE)


@router.get("/ui/studio/schema.json")
def schema(request: Request, user: User) -> Response:
    """The definition language's JSON Schema for the editor's completions and hovers, its properties
    described in the reader's language (the `schema.NAME` texts of the page's catalogue); the model's
    own descriptions are English, so a Chinese reader gets only the catalogue's."""
    lang = i18n.language(request, user.language)
    body = _described(json_schema(), lang, keep=lang == "en")
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=3600"})


def _described(node: Any, lang: str, *, keep: bool) -> Any:
    if isinstance(node, list):
        return [_described(v, lang, keep=keep) for v in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _described(v, lang, keep=keep)
        for k, v in node.items()
        if keep or k not in ("description", "title") or not isinstance(v, str)
    }
    properties = out.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            key = f"schema.{name}"
            text = i18n.translate(lang, key)
            if text != key and isinstance(sub, dict):
                sub["description"] = text
    return out


@router.get("/ui/studio/{key}")
def edit(
    request: Request,
    user: User,
    session: SessionDep,
    key: DefKey,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    saved: str | None = None,
) -> Response:
    versions = defs.versions(session, key=key)  # 404 for an unknown key
    chosen = version or versions[-1].version  # the newest: what an owner edits next
    one = defs.get_one(session, key=key, version=chosen)
    return _editor(request, user, session, key=key, version=chosen, source=one.source, saved=saved)


@router.post("/ui/studio/validate")
def validate(request: Request, user: PostUser, source: Source = "") -> Response:
    return render(request, "partials/checks.html", user, **_checks(request, source))


@router.post("/ui/studio/save")
def save(
    request: Request, user: OwnerPost, engine: EngineDep, session: SessionDep, source: Source
) -> Response:
    try:
        with session_scope(engine) as write:
            ref = defs.create_draft(write, source=source, user=user)
    except ProblemError as problem:
        if problem.status != 422:
            raise
        result = load_text(source)
        key = result.definition.key if result.definition else None
        return _editor(
            request, user, session, key=key, version=None, source=source, status_code=422, saved="rejected"
        )
    return RedirectResponse(f"/ui/studio/{ref.key}?version={ref.version}&saved=draft", status_code=303)


def _four_eyes(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.publish_requires_second_owner


def _confirm(request: Request, user: OwnerPost, key: str, version: int, what: str) -> Response:
    """The confirmation page of a publishing step posted without `confirmed=yes` (no script)."""
    return render(request, "studio_confirm.html", user, key=key, version=version, what=what)


@router.post("/ui/studio/{key}/versions/{version}/publish")
def publish(
    request: Request,
    user: OwnerPost,
    engine: EngineDep,
    key: DefKey,
    version: Version,
    confirmed: Confirmed = "",
) -> Response:
    if confirmed != "yes":
        return _confirm(request, user, key, version, "publish")
    with session_scope(engine) as write:
        ref = publication.publish_directly(
            write, key=key, version=version, user=user, required=_four_eyes(request)
        )
    return RedirectResponse(f"/ui/studio?done=published:{ref.key}:{ref.version}", status_code=303)


# Four-eyes publishing (api/services/publication.py): the same service and rules as the API's routes.
@router.post("/ui/studio/{key}/versions/{version}/request")
def request_publication(
    request: Request,
    user: OwnerPost,
    engine: EngineDep,
    key: DefKey,
    version: Version,
    confirmed: Confirmed = "",
) -> Response:
    if confirmed != "yes":
        return _confirm(request, user, key, version, "request")
    with session_scope(engine) as write:
        publication.request(write, key=key, version=version, user=user, required=_four_eyes(request))
    return RedirectResponse(f"/ui/studio/{key}?version={version}&saved=requested", status_code=303)


@router.post("/ui/studio/{key}/versions/{version}/approve")
def approve_publication(
    request: Request,
    user: OwnerPost,
    engine: EngineDep,
    key: DefKey,
    version: Version,
    confirmed: Confirmed = "",
) -> Response:
    if confirmed != "yes":
        return _confirm(request, user, key, version, "approve")
    with session_scope(engine) as write:
        ref = publication.approve(write, key=key, version=version, user=user)
    return RedirectResponse(f"/ui/studio?done=published:{ref.key}:{ref.version}", status_code=303)


@router.post("/ui/studio/{key}/versions/{version}/refuse")
def refuse_publication(
    request: Request,
    user: OwnerPost,
    engine: EngineDep,
    key: DefKey,
    version: Version,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    with session_scope(engine) as write:
        publication.refuse(write, key=key, version=version, user=user, reason=reason.strip())
    return RedirectResponse(f"/ui/studio/{key}?version={version}&saved=refused", status_code=303)


@router.get("/ui/studio/{key}/compare")
def compare(
    request: Request,
    user: User,
    session: SessionDep,
    key: DefKey,
    a: Annotated[int, Query(ge=1, le=2**31 - 1)],
    b: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> Response:
    old, new = defs.get_one(session, key=key, version=a), defs.get_one(session, key=key, version=b)
    lines = list(
        difflib.unified_diff(
            old.source.splitlines(),
            new.source.splitlines(),
            fromfile=f"{key} v{a}",
            tofile=f"{key} v{b}",
            lineterm="",
            n=3,
        )
    )
    kinds = [
        "meta"
        if line.startswith(("---", "+++"))
        else "hunk"
        if line.startswith("@@")
        else "add"
        if line.startswith("+")
        else "del"
        if line.startswith("-")
        else "ctx"
        for line in lines
    ]
    return render(
        request,
        "studio_compare.html",
        user,
        key=key,
        a=a,
        b=b,
        diff=list(zip(kinds, lines, strict=True)),
        versions=defs.versions(session, key=key),
        added=kinds.count("add"),
        removed=kinds.count("del"),
    )
