"""The CMDB's pages: search, a CI (attributes, relationships drawn as a graph, history, records) and
impact analysis from a CI or a record. Every reader signed in sees them (as the API); the words are
the model's labels in the reader's language, never class or attribute keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import SessionDep
from api.services import ci_records
from api.services import cmdb as svc
from api.web import i18n
from api.web.common import PageRoute, User, render
from cmdb import cis, impact, models, relations, search
from cmdb.model import CmdbModel
from cmdb.views import ReachedCi

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CiId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Direction = Literal["upstream", "downstream", "both"]
PAGE = 50


@dataclass
class Words:
    """The model's words in the reader's language."""

    model: CmdbModel
    lang: str

    def cls(self, name: str) -> str:
        found = self.model.ci_class(name)
        return i18n.pick(found.label.model_dump() if found else None, self.lang, name)

    def attribute(self, class_name: str, name: str) -> str:
        found = self.model.ci_class(class_name)
        spec = found.attribute(name) if found else None
        return i18n.pick(spec.label.model_dump() if spec else None, self.lang, i18n.humanize(name))


def value_words(lang: str, value: Any) -> Any:
    """An enum value of the shipped CMDB model as people read it (`production` → 生产)."""
    if isinstance(value, str):
        key = f"cmdb.value.{value}"
        said = i18n.translate(lang, key)
        return value if said == key else said
    return value


def _mermaid_id(ci_id: int) -> str:
    return f"ci{ci_id}"


def _label(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")[:60]


def graph(ci: Any, rels: list[Any], words: Words) -> str:
    """The CI and its direct relationships as a Mermaid flowchart (arrows from the CI that relies)."""
    lines = [
        "flowchart LR",
        f'  {_mermaid_id(ci.id)}["{_label(ci.name)}<br/><small>{_label(words.cls(ci.class_name))}</small>"]',
    ]
    lines.append(f"  class {_mermaid_id(ci.id)} me")
    for r in rels[:40]:
        lines.append(
            f'  {_mermaid_id(r.ci)}["{_label(r.ci_name)}<br/><small>{_label(words.cls(r.ci_class))}</small>"]'
        )
        label = _label(i18n.pick(r.label, words.lang, r.type))
        a, b = (ci.id, r.ci) if r.direction == "outgoing" else (r.ci, ci.id)
        lines.append(f'  {_mermaid_id(a)} -- "{label}" --> {_mermaid_id(b)}')
        lines.append(f'  click {_mermaid_id(r.ci)} href "/ui/cmdb/cis/{r.ci}"')
    lines.append("  classDef me fill:#e8f1ff,stroke:#3b6fd8,stroke-width:2px")
    return "\n".join(lines)


def _words(session: Session, request: Request, user: Any) -> Words:
    return Words(models.current(session)[1], i18n.language(request, user.language))


@router.get("/ui/cmdb")
def cmdb_search(
    request: Request,
    user: User,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    class_name: Annotated[str | None, Query(alias="class", max_length=48)] = None,
    status: Annotated[Literal["active", "retired", "all"], Query()] = "active",
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    words = _words(session, request, user)
    chosen = class_name if class_name and words.model.ci_class(class_name) else None
    page = svc.read(
        session,
        user,
        lambda s: search.search(
            s,
            words.model,
            class_name=chosen,
            q=(q or "").strip() or None,
            attrs=[],
            status=status,
            after=after,
            limit=PAGE,
        ),
    )
    return render(
        request,
        "cmdb_search.html",
        user,
        page=page,
        q=q or "",
        chosen=chosen or "",
        status=status,
        classes=[(c.name, words.cls(c.name)) for c in words.model.classes],
        words=words,
    )


@router.get("/ui/cmdb/cis/{ci_id}")
def ci_page(request: Request, ci_id: CiId, user: User, session: SessionDep) -> Response:
    words = _words(session, request, user)

    def read(s: Session) -> Any:
        return cis.out(cis.load(s, ci_id), relations.of(s, words.model, ci_id))

    ci = svc.read(session, user, read)
    versions = cis.history(session, ci_id=ci_id, after=0, limit=200).items
    cls = words.model.ci_class(ci.class_name)
    attributes = [
        (words.attribute(ci.class_name, a.name), value_words(words.lang, ci.attributes.get(a.name)))
        for a in (cls.attributes if cls else [])
        if ci.attributes.get(a.name) not in (None, "")
    ]
    return render(
        request,
        "cmdb_ci.html",
        user,
        ci=ci,
        class_label=words.cls(ci.class_name),
        requires_change=bool(cls and cls.requires_change),
        attributes=attributes,
        rels=ci.relations or [],
        diagram=graph(ci, ci.relations or [], words),
        versions=list(reversed(versions)),
        records=ci_records.ci_records(session, user, ci_id, words.lang),
        words=words,
    )


@router.get("/ui/cmdb/cis/{ci_id}/impact")
def ci_impact_page(
    request: Request,
    ci_id: CiId,
    user: User,
    session: SessionDep,
    direction: Annotated[Direction, Query()] = "downstream",
    depth: Annotated[int, Query(ge=1, le=impact.MAX_DEPTH)] = 3,
) -> Response:
    words = _words(session, request, user)
    result = svc.read(
        session, user, lambda s: ci_records.ci_impact(s, user, ci_id, depth, direction, words.lang)
    )
    origin = cis.load(session, ci_id)
    return render(
        request,
        "cmdb_impact.html",
        user,
        title=origin.name,
        back=f"/ui/cmdb/cis/{ci_id}",
        action=f"/ui/cmdb/cis/{ci_id}/impact",
        starts=[],
        reached=result.reached,
        services=result.services,
        records=result.records,
        truncated=result.truncated,
        depth=depth,
        direction=direction,
        depths=list(range(1, impact.MAX_DEPTH + 1)),
        words=words,
    )


@router.get("/ui/records/{ref}/impact")
def record_impact_page(
    request: Request,
    ref: Annotated[str, Path(min_length=1, max_length=100)],
    user: User,
    session: SessionDep,
    direction: Annotated[Direction, Query()] = "downstream",
    depth: Annotated[int, Query(ge=1, le=impact.MAX_DEPTH)] = 3,
) -> Response:
    words = _words(session, request, user)
    result = svc.read(
        session, user, lambda s: ci_records.record_impact(s, user, ref, depth, direction, words.lang)
    )
    starts: list[ReachedCi] = result.cis
    return render(
        request,
        "cmdb_impact.html",
        user,
        title=result.record,
        back=f"/ui/records/{result.record}",
        action=f"/ui/records/{result.record}/impact",
        starts=starts,
        reached=result.reached,
        services=result.services,
        records=result.records,
        truncated=result.truncated,
        depth=depth,
        direction=direction,
        depths=list(range(1, impact.MAX_DEPTH + 1)),
        words=words,
    )
