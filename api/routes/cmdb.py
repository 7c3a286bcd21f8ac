"""Configuration items, relationships, impact analysis and bulk import/export. Everyone signed in
reads; configuration managers (and admins) write. Every change is kept as a CI version, optionally
naming the record (e.g. the change) it was made through."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from api.deps import ConfigurationManager, CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import ProblemError, caller_language, responses
from api.services import ci_records
from api.services import cmdb as svc
from cmdb import bulk, cis, export, impact, models, relations, search
from cmdb.bulk_parse import parse_csv, parse_json
from cmdb.views import CiOut, CiPage, ImpactOut, ImportReport, RecordOnCiOut, VersionPage

router = APIRouter(prefix="/api/v1/cmdb", tags=["cmdb"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="A CI's id.")]
CLASS_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
ClassName = Annotated[str, StringConstraints(pattern=CLASS_PATTERN)]
AttrName = Annotated[str, StringConstraints(min_length=1, max_length=48)]
AttrValue = Annotated[str, StringConstraints(max_length=4000)] | int | float | bool | None
RecordNumber = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$"),
    Field(description="The record (e.g. a change) the change is made through; it must exist."),
]
MAX_IMPORT_BYTES = 1024 * 1024


class CiCreate(BaseModel):
    class_name: ClassName = Field(alias="class", description="The CI's class in the model in force.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    attributes: dict[AttrName, AttrValue] = Field(default_factory=dict, max_length=100)
    record: RecordNumber | None = None


class CiUpdate(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    attributes: dict[AttrName, AttrValue] = Field(
        default_factory=dict, max_length=100, description="Attributes to set; null removes one."
    )
    record: RecordNumber | None = None


class Retirement(BaseModel):
    record: RecordNumber | None = None


class RelationCreate(BaseModel):
    type: ClassName = Field(description="A relationship type of the model, e.g. `runs_on`.")
    source: int = Field(ge=1, le=2**31 - 1, description="The CI that relies on the target.")
    target: int = Field(ge=1, le=2**31 - 1)
    record: RecordNumber | None = None


class RelationCreated(BaseModel):
    id: int
    type: str
    source: int
    target: int


@router.get("/cis", response_model=CiPage, responses=responses(401, 422))
def search_cis(
    user: CurrentUser,
    session: SessionDep,
    class_name: Annotated[
        str | None, Query(alias="class", pattern=CLASS_PATTERN, description="Only this class.")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name (any case).")] = None,
    attr: Annotated[
        list[str],
        Query(
            max_length=10, description="`NAME=VALUE`, repeatable (needs `class`): attributes equal to these."
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults
    status: Annotated[Literal["active", "retired", "all"], Query()] = "active",
    after: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="The `next_after` of the previous page.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CiPage:
    """Search CIs by class, name and attribute values, by id a page at a time."""
    if any(len(a) > 300 for a in attr):
        raise ProblemError(422, "an attr filter is at most 300 characters", kind="InvalidRequest")
    return svc.read(
        session,
        user,
        lambda s: search.search(
            s,
            models.current(s)[1],
            class_name=class_name,
            q=q,
            attrs=attr,
            status=status,
            after=after,
            limit=limit,
        ),
    )


@router.post("/cis", status_code=201, response_model=CiOut, responses=responses(401, 403, 409, 422))
async def create_ci(
    body: CiCreate, user: ConfigurationManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Create a CI, checked against its class; a unique key already taken is a 409 naming it."""
    return await svc.write(
        engine,
        user,
        idempotency,
        body,
        lambda s: cis.out(
            cis.create(
                s,
                model=models.current(s),
                class_name=body.class_name,
                name=body.name,
                attributes=body.attributes,
                actor=user.username,
                record=body.record,
            )
        ),
        status=201,
    )


@router.get("/cis/{ci_id}", response_model=CiOut, responses=responses(401, 404))
def get_ci(ci_id: Id, user: CurrentUser, session: SessionDep) -> CiOut:
    """A CI with its relationships, each named from this CI's side."""
    return svc.read(
        session, user, lambda s: cis.out(cis.load(s, ci_id), relations.of(s, models.current(s)[1], ci_id))
    )


@router.patch("/cis/{ci_id}", response_model=CiOut, responses=responses(401, 403, 404, 409, 422))
async def update_ci(
    ci_id: Id, body: CiUpdate, user: ConfigurationManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Change a CI's name or attributes; the whole CI is checked again. A change is kept as a version."""
    return await svc.write(
        engine,
        user,
        idempotency,
        body,
        lambda s: cis.out(
            cis.update(
                s,
                model=models.current(s),
                ci_id=ci_id,
                name=body.name,
                attributes=body.attributes,
                actor=user.username,
                record=body.record,
            )
        ),
    )


@router.post("/cis/{ci_id}/retire", response_model=CiOut, responses=responses(401, 403, 404, 409, 422))
async def retire_ci(
    ci_id: Id, body: Retirement, user: ConfigurationManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Retire a CI: its unique keys are freed, its relationships removed; it and its history stay."""
    return await svc.write(
        engine,
        user,
        idempotency,
        body,
        lambda s: cis.out(
            cis.retire(s, ci_id=ci_id, actor=user.username, record=body.record, model=models.current(s)[1])
        ),
    )


@router.get("/cis/{ci_id}/history", response_model=VersionPage, responses=responses(401, 404))
def ci_history(
    ci_id: Id,
    user: CurrentUser,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> VersionPage:
    """Every change to a CI, oldest first: who, when, what changed, through which record."""
    return svc.read(session, user, lambda s: cis.history(s, ci_id=ci_id, after=after, limit=limit))


@router.get("/cis/{ci_id}/impact", response_model=ImpactOut, responses=responses(401, 404))
def ci_impact(
    ci_id: Id,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    direction: Annotated[
        Literal["upstream", "downstream", "both"],
        Query(
            description="downstream: what relies on this CI (a failure's reach); upstream: what it relies on."
        ),
    ] = "both",
    depth: Annotated[int, Query(ge=1, le=impact.MAX_DEPTH)] = 3,
) -> Response:
    """The CIs reached to `depth`, each with its depth and path, the business services affected, and
    the open records (incidents, problems, changes…) on the CI and the CIs reached that the caller
    may see."""
    lang = caller_language(request)
    result = svc.read(session, user, lambda s: ci_records.ci_impact(s, user, ci_id, depth, direction, lang))
    # Serialised once here: FastAPI would validate the thousands of CIs reached again on the way out.
    return Response(result.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/cis/{ci_id}/records", response_model=list[RecordOnCiOut], responses=responses(401, 404))
def ci_record_list(
    ci_id: Id, request: Request, user: CurrentUser, session: SessionDep
) -> list[RecordOnCiOut]:
    """The records (open and closed, newest first, at most 200) whose `ci` fields name the CI, as far
    as the caller may see them."""
    lang = caller_language(request)

    svc.read(session, user, lambda s: cis.out(cis.load(s, ci_id), []))  # 404 for a CI that does not exist
    return ci_records.ci_records(session, user, ci_id, lang)


@router.post(
    "/relations",
    status_code=201,
    response_model=RelationCreated,
    responses=responses(401, 403, 404, 409, 422),
)
async def create_relation(
    body: RelationCreate, user: ConfigurationManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Relate two CIs: the type must allow their classes and, if it forbids cycles, not close one."""

    def run(s: Any) -> RelationCreated:
        row = relations.create(
            s,
            model=models.current(s)[1],
            type_name=body.type,
            source_id=body.source,
            target_id=body.target,
            actor=user.username,
            record=body.record,
        )
        return RelationCreated(id=row.id or 0, type=row.type, source=row.source_id, target=row.target_id)

    return await svc.write(engine, user, idempotency, body, run, status=201)


class Deleted(BaseModel):
    deleted: int


@router.delete("/relations/{relation_id}", response_model=Deleted, responses=responses(401, 403, 404, 422))
async def delete_relation(
    relation_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    user: ConfigurationManager,
    engine: EngineDep,
    idempotency: Idempotent,
    record: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="The record it is done through.")
    ] = None,
) -> Response:
    """Remove a relationship (kept in both CIs' history)."""

    def run(s: Any) -> Deleted:
        relations.delete(s, relation_id=relation_id, actor=user.username, record=record)
        return Deleted(deleted=relation_id)

    return await svc.write(engine, user, idempotency, None, run)


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "description": "Columns class, name, then attributes."}
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "cis": {"type": "array", "items": {"type": "object"}},
                        "relations": {"type": "array", "items": {"type": "object"}},
                    },
                }
            },
        },
    }
}


@router.post(
    "/import",
    response_model=ImportReport,
    responses=responses(401, 403, 413, 415, 422),
    openapi_extra=IMPORT_BODY,
)
async def import_cis(
    request: Request,
    user: ConfigurationManager,
    engine: EngineDep,
    idempotency: Idempotent,
    dry_run: Annotated[bool, Query(description="Check every row and report; write nothing.")] = False,
    record: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="The record it is done through.")
    ] = None,
) -> Response:
    """Import CIs (CSV or JSON) and relationships (JSON), idempotent by each class's key. One
    transaction: with any row in error nothing is written (422 listing every row's errors with line
    and column); a dry run answers 200 with the same report and writes nothing."""
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise ProblemError(
            413, f"an import over the API is at most {MAX_IMPORT_BYTES} bytes; use `itilflow cmdb import`"
        )
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/json"):
        raise ProblemError(415, f"send text/csv or application/json, not {media}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProblemError(
            422, "the import is not UTF-8 text / 导入内容不是 UTF-8 文本", kind="InvalidImport"
        ) from None
    parsed = parse_csv(text) if media == "text/csv" else parse_json(text)

    def run(s: Any) -> ImportReport:
        if record is not None:
            cis.check_record(s, record, "query.record")
        report = bulk.run(
            s,
            models.current(s),
            parsed,
            actor=user.username,
            lang=user.language,
            dry_run=dry_run,
            record=record,
        )
        if report.errors and not dry_run:
            raise ProblemError(
                422,
                f"{len(report.errors)} error(s) in the import; nothing was written"
                f" / 导入有 {len(report.errors)} 处错误，未写入任何内容",
                errors=[
                    {"path": f"line {e.line}, column {e.column}", "message": e.message}
                    for e in report.errors[:1000]
                ],
                kind="InvalidImport",
            )
        return report

    return await svc.write(engine, user, idempotency, text, run)


@router.get(
    "/export",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}},
        **responses(401, 422),
    },
)
def export_cis(
    user: CurrentUser,
    session: SessionDep,
    format: Annotated[
        Literal["json", "csv"], Query(description="JSON: CIs and relationships; CSV: CIs.")
    ] = "json",
    class_name: Annotated[
        str | None, Query(alias="class", pattern=CLASS_PATTERN, description="Only this class.")
    ] = None,
) -> Response:
    """Active CIs (and, in JSON, their relationships) in the shapes the import reads back."""
    if format == "csv":
        return PlainTextResponse(export.to_csv(session, class_name), media_type="text/csv")
    data = export.to_data(session, models.current(session), class_name)
    return Response(json.dumps(data, ensure_ascii=False), media_type="application/json")
