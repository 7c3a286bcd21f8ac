"""CI changes proposed on a change record: listed, proposed, withdrawn; applied by the change's own
workflow when it is implemented and verified (the `apply_ci_changes` effect, docs/cmdb.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints, model_validator

from api.deps import CiChangeProposer, CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import caller_language, responses
from api.services import ci_changes
from api.services import cmdb as svc
from cmdb.tables import CiProposalRow
from cmdb.views import CiProposalOut

router = APIRouter(prefix="/api/v1/processes", tags=["cmdb"])
RecordRef = Annotated[str, Path(min_length=1, max_length=64, description="The change's id or number.")]
ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AttrName = Annotated[str, StringConstraints(min_length=1, max_length=48)]
AttrValue = Annotated[str, StringConstraints(max_length=4000)] | int | float | bool | None


class ProposalIn(BaseModel):
    action: Literal["create", "update", "retire"]
    ci: int | None = Field(default=None, ge=1, le=2**31 - 1, description="The CI to update or retire.")
    class_name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$")] | None = Field(
        default=None, alias="class", description="The class of a CI to create."
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="The name of a CI to create, or a CI's new name."
    )
    attributes: dict[AttrName, AttrValue] = Field(
        default_factory=dict, max_length=100, description="Attributes to set (null removes one)."
    )

    @model_validator(mode="after")
    def _shape(self) -> ProposalIn:
        if self.action == "create" and (self.class_name is None or self.name is None or self.ci is not None):
            raise ValueError("creating a CI takes `class` and `name`, not `ci`")
        if self.action != "create" and (self.ci is None or self.class_name is not None):
            raise ValueError(f"{self.action} takes `ci`, not `class`")
        return self


def out(row: CiProposalRow, lang: str) -> CiProposalOut:
    assert row.id is not None
    error = row.error or {}
    return CiProposalOut(
        id=row.id,
        record=row.record_number,
        action=row.action,
        ci=row.ci_id,
        class_name=row.class_name,
        name=row.name,
        attributes=row.attributes,
        state=row.state,
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        decided_at=row.decided_at,
        result_ci=row.result_ci_id,
        error=(error.get("zh") if lang == "zh" else error.get("en")) if error else None,
    )


@router.get("/{record}/ci-changes", response_model=list[CiProposalOut], responses=responses(401, 404))
def list_ci_changes(
    record: RecordRef, request: Request, user: CurrentUser, session: SessionDep
) -> list[CiProposalOut]:
    """The CI changes proposed on the record, in the order they were made, with their state."""
    lang = caller_language(request)
    with svc.refusals(user):
        rows = ci_changes.listed(session, user, record)
    return [out(r, lang) for r in rows]


@router.post(
    "/{record}/ci-changes",
    response_model=CiProposalOut,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
async def propose_ci_change(
    record: RecordRef,
    body: ProposalIn,
    request: Request,
    user: CiChangeProposer,
    engine: EngineDep,
    idempotency: Idempotent,
) -> Response:
    """Propose creating, updating or retiring a CI on an open change. It is checked against the CMDB
    now, and applies when the change is implemented and verified; its CI versions name the change."""
    lang = caller_language(request)
    return await svc.write(
        engine,
        user,
        idempotency,
        body,
        lambda s: out(
            ci_changes.propose(
                s,
                user,
                record,
                action=body.action,
                ci=body.ci,
                class_name=body.class_name,
                name=body.name,
                attributes=dict(body.attributes),
            ),
            lang,
        ),
        status=201,
    )


@router.post(
    "/{record}/ci-changes/{proposal}/withdraw",
    response_model=CiProposalOut,
    responses=responses(401, 403, 404, 409),
)
async def withdraw_ci_change(
    record: RecordRef,
    proposal: ProposalId,
    request: Request,
    user: CiChangeProposer,
    engine: EngineDep,
    idempotency: Idempotent,
) -> Response:
    """Withdraw a proposed CI change before it applies."""
    lang = caller_language(request)
    return await svc.write(
        engine, user, idempotency, None, lambda s: out(ci_changes.withdraw(s, user, record, proposal), lang)
    )
