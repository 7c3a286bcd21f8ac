"""The CMDB model: everyone signed in reads it; configuration managers (and admins) draft and publish
versions of its YAML, like process definitions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import ConfigurationManager, CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import ProblemError, responses, unprocessable
from api.services import cmdb as svc
from cmdb import models
from cmdb.loader import load_text
from cmdb.views import IssueOut, ModelOut, ModelValidationOut, ModelVersionOut

router = APIRouter(prefix="/api/v1/cmdb", tags=["cmdb"])

YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
MAX_SOURCE_BYTES = 256 * 1024
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A model version.")]
SOURCE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string", "description": "The CMDB model as YAML."}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"source": {"type": "string", "maxLength": MAX_SOURCE_BYTES}},
                    "required": ["source"],
                }
            },
        },
    }
}


class ModelSource(BaseModel):
    source: str = Field(max_length=MAX_SOURCE_BYTES)


class ClassesOut(BaseModel):
    version: int = Field(description="The model version in force (0: the shipped default).")
    title: dict[str, str]
    classes: list[dict[str, Any]] = Field(description="CI classes with their attributes.")
    relations: list[dict[str, Any]] = Field(description="Relationship types with their inverse names.")


async def _source(request: Request) -> str:
    raw = await request.body()
    if len(raw) > MAX_SOURCE_BYTES:
        raise ProblemError(
            413, f"a CMDB model is at most {MAX_SOURCE_BYTES} bytes / 配置模型最多 {MAX_SOURCE_BYTES} 字节"
        )
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    try:
        if media in YAML_TYPES:
            return raw.decode("utf-8")
        if media == "application/json":
            return ModelSource.model_validate_json(raw).source
    except (UnicodeDecodeError, ValueError):
        raise unprocessable(
            'send the model as UTF-8 YAML or as {"source": "<YAML>"}'
            ' / 请以 UTF-8 YAML 或 {"source": "<YAML>"} 发送模型',
            [{"path": "body", "message": "unreadable"}],
        ) from None
    raise ProblemError(415, f"send application/yaml or application/json, not {media}")


@router.get("/classes", response_model=ClassesOut, responses=responses(401))
def classes(user: CurrentUser, session: SessionDep) -> ClassesOut:
    """The classes and relationship types of the model in force."""
    version, model = models.current(session)
    data = model.model_dump(mode="json")
    return ClassesOut(
        version=version, title=data["title"], classes=data["classes"], relations=data["relations"]
    )


@router.get("/model", response_model=ModelOut, responses=responses(401, 404, 422))
def get_model(
    user: CurrentUser,
    session: SessionDep,
    version: Annotated[
        int | None,
        Query(ge=0, le=2**31 - 1, description="Default: the one in force; 0: the shipped default."),
    ] = None,
) -> ModelOut:
    """A model version: its YAML and parsed form."""
    return svc.read(session, user, lambda s: models.get(s, version))


@router.get("/model/versions", response_model=list[ModelVersionOut], responses=responses(401))
def model_versions(user: CurrentUser, session: SessionDep) -> list[ModelVersionOut]:
    """Every model version (0 is the shipped default) with who created and published it."""
    return models.versions(session)


@router.post(
    "/model/validate",
    response_model=ModelValidationOut,
    responses=responses(401, 413, 415, 422),
    openapi_extra=SOURCE_BODY,
)
async def validate_model(request: Request, user: CurrentUser) -> ModelValidationOut:
    """Check a model without storing it; every problem with its path, in the caller's language."""
    result = load_text(await _source(request))
    return ModelValidationOut(
        valid=result.ok,
        errors=[IssueOut(path=i.path, message=i.message(user.language)) for i in result.issues],
    )


@router.post(
    "/model",
    status_code=201,
    response_model=ModelVersionOut,
    responses=responses(401, 403, 413, 415, 422),
    openapi_extra=SOURCE_BODY,
)
async def create_model(
    request: Request, user: ConfigurationManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Store a model as a new draft version (configuration managers)."""
    source = await _source(request)
    return await svc.write(
        engine,
        user,
        idempotency,
        source,
        lambda s: models.create_draft(s, source=source, actor=user.username),
        status=201,
    )


@router.post(
    "/model/versions/{version}/publish",
    response_model=ModelVersionOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def publish_model(
    version: Version, user: ConfigurationManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Publish a draft: CIs are checked against it from now on. Refused if it drops a class or
    relationship type still in use."""
    return await svc.write(
        engine, user, idempotency, None, lambda s: models.publish(s, version=version, actor=user.username)
    )
