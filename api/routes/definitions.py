"""Definitions: everyone authenticated reads them; process owners draft, publish and retire them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from anyio.to_thread import run_sync
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from api.auth import Principal
from api.deps import CurrentUser, EngineDep, Idempotent, ProcessOwner, SessionDep, SettingsDep
from api.idempotency import IdempotentRequest
from api.problems import ProblemError, caller_language, responses, unprocessable
from api.schemas import (
    DefinitionListItem,
    DefinitionOut,
    DefinitionRef,
    DefinitionSource,
    DefinitionVersionOut,
    PublicationOut,
    RefusePublication,
    ValidationOut,
)
from api.services import definitions as defs
from api.services import publication
from core.db import session_scope

router = APIRouter(prefix="/api/v1/definitions", tags=["definitions"])

YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
MAX_SOURCE_BYTES = 1_000_000
DefKey = Annotated[str, Path(min_length=1, max_length=64, description="Definition key, e.g. `incident`.")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
SOURCE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DefinitionSource.model_json_schema()},
            "application/yaml": {"schema": {"type": "string", "description": "The definition as YAML."}},
        },
    }
}


async def _source(request: Request) -> str:
    """The definition text from a YAML body or a JSON `{"source": ...}` body."""
    raw = await request.body()
    if len(raw) > MAX_SOURCE_BYTES:
        raise ProblemError(413, f"a definition is at most {MAX_SOURCE_BYTES} bytes")
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media in YAML_TYPES:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise unprocessable(
                "the YAML body is not UTF-8 text", [{"path": "body", "message": "not UTF-8"}]
            ) from None
    if media != "application/json":
        raise ProblemError(415, f"send the definition as application/yaml or application/json, not {media}")
    try:
        return DefinitionSource.model_validate_json(raw).source
    except ValidationError as exc:
        errors = [
            {
                "path": "body." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "body",
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        raise unprocessable('send {"source": "<YAML text>"} or a YAML body', errors) from None


@router.get("", response_model=list[DefinitionListItem], responses=responses(401))
def list_definitions(user: CurrentUser, session: SessionDep) -> list[DefinitionListItem]:
    """The newest version of each definition, with the version new records get."""
    return defs.list_definitions(session)


@router.post(
    "/validate",
    response_model=ValidationOut,
    responses=responses(401, 413, 415, 422),
    openapi_extra=SOURCE_BODY,
)
async def validate_definition(request: Request, user: CurrentUser) -> ValidationOut:
    """Check a definition without storing it; every problem comes with its path, worded in the
    caller's language (the profile's, else Accept-Language)."""
    # In a thread: a large definition takes a while to check, and the event loop serves everyone.
    return await run_sync(partial(defs.validation, await _source(request), caller_language(request)))


@router.post(
    "",
    status_code=201,
    response_model=DefinitionRef,
    responses=responses(401, 403, 413, 415, 422),
    openapi_extra=SOURCE_BODY,
)
async def create_definition(
    request: Request, user: ProcessOwner, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Store a definition as a new draft version (process owners)."""
    source = await _source(request)

    def draft() -> DefinitionRef:
        with session_scope(engine) as session:
            return defs.create_draft(session, source=source, user=user)

    async def act() -> DefinitionRef:
        return await run_sync(draft)  # parsing and checking off the event loop

    return await idempotency.respond(source, act, status=201)


async def _status_change(
    engine: Engine,
    user: Principal,
    idempotency: IdempotentRequest,
    key: str,
    version: int,
    change: Callable[..., BaseModel],
    *,
    body: BaseModel | None = None,
    status: int = 200,
) -> Response:
    """Change a version's status (`change`: publish, retire, ask for, refuse publication), in a
    thread: publishing checks every published definition. Without a body the request is
    fingerprinted by its path."""

    def run() -> BaseModel:
        with session_scope(engine) as session:
            return change(session, key=key, version=version, user=user)

    async def act() -> BaseModel:
        return await run_sync(run)

    return await idempotency.respond(body, act, status=status)


@router.post(
    "/{key}/versions/{version}/publish",
    response_model=DefinitionRef,
    responses=responses(401, 403, 404, 409, 422),
)
async def publish_definition(
    key: DefKey,
    version: Version,
    user: ProcessOwner,
    engine: EngineDep,
    settings: SettingsDep,
    idempotency: Idempotent,
) -> Response:
    """Publish a draft: new records get it; running records keep their version. With four-eyes
    publishing on (`ITILFLOW_PUBLISH_REQUIRES_SECOND_OWNER`) this is refused (403, the rule named):
    ask for publication instead and have another process owner approve it."""
    change = partial(publication.publish_directly, required=settings.publish_requires_second_owner)
    return await _status_change(engine, user, idempotency, key, version, change)


PUBLICATION = "/{key}/versions/{version}/publication-request"


@router.post(
    PUBLICATION,
    status_code=201,
    response_model=PublicationOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def request_publication(
    key: DefKey,
    version: Version,
    user: ProcessOwner,
    engine: EngineDep,
    settings: SettingsDep,
    idempotency: Idempotent,
) -> Response:
    """Four-eyes publishing: ask for a draft to be published; another process owner (not its author,
    not you) approves it. 409 when four-eyes publishing is off, the version is no draft, or a request
    is already waiting."""
    change = partial(publication.request, required=settings.publish_requires_second_owner)
    return await _status_change(engine, user, idempotency, key, version, change, status=201)


@router.post(
    PUBLICATION + "/approve",
    response_model=DefinitionRef,
    responses=responses(401, 403, 404, 409, 422),
)
async def approve_publication(
    key: DefKey, version: Version, user: ProcessOwner, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Approve the waiting request: the version is published. Refused (403, the rule named) for the
    draft's author and for the one who asked; 409 when nothing waits."""
    return await _status_change(engine, user, idempotency, key, version, publication.approve)


@router.post(
    PUBLICATION + "/refuse",
    response_model=PublicationOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def refuse_publication(
    key: DefKey,
    version: Version,
    body: RefusePublication,
    user: ProcessOwner,
    engine: EngineDep,
    idempotency: Idempotent,
) -> Response:
    """Refuse the waiting request (with a reason): the draft stays a draft and may be asked for again."""

    change = partial(publication.refuse, reason=body.reason)
    return await _status_change(engine, user, idempotency, key, version, change, body=body)


@router.post(
    "/{key}/versions/{version}/retire",
    response_model=DefinitionRef,
    responses=responses(401, 403, 404, 409, 422),
)
async def retire_definition(
    key: DefKey,
    version: Version,
    user: ProcessOwner,
    engine: EngineDep,
    idempotency: Idempotent,
) -> Response:
    """Retire a version: no new records get it; running records finish on it."""
    return await _status_change(engine, user, idempotency, key, version, defs.retire)


@router.get("/{key}/versions", response_model=list[DefinitionVersionOut], responses=responses(401, 404))
def definition_versions(key: DefKey, user: CurrentUser, session: SessionDep) -> list[DefinitionVersionOut]:
    """Every version of a definition with who created, published and retired it, and when."""
    return defs.versions(session, key=key)


@router.get("/{key}", response_model=DefinitionOut, responses=responses(401, 404, 422))
def get_definition(
    key: DefKey,
    user: CurrentUser,
    session: SessionDep,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Default: the published one.")
    ] = None,
) -> DefinitionOut:
    """A definition version: source, parsed form and the fields a new record takes (each saying
    whether the caller may set it: `field_rights` at creation)."""
    return defs.get_one(session, key=key, version=version, user=user)


@router.get(
    "/{key}/diagram",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **responses(401, 404, 422)},
)
def definition_diagram(
    key: DefKey,
    user: CurrentUser,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    lang: Annotated[Literal["zh", "en"], Query()] = "en",
) -> PlainTextResponse:
    """The state machine as Mermaid `stateDiagram-v2` source."""
    return PlainTextResponse(defs.diagram(session, key=key, version=version, lang=lang))
