"""CI changes proposed on a change record (cmdb/proposals.py) behind the API: only on a record the
caller may see, that is still open, and whose process applies CI changes (an `apply_ci_changes`
effect in its pinned definition version) — a proposal nothing would ever apply is refused."""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import Session

from api.auth import Principal
from api.problems import ProblemError
from api.services.lookup import find_record
from client.launch import DefinitionNotFound, pinned_definition
from cmdb import models, proposals
from cmdb.tables import CiProposalRow
from core.tables import RecordRow
from definitions.model import Definition

Action = Literal["create", "update", "retire"]


def applies_ci_changes(definition: Definition) -> bool:
    effects = [e for t in definition.transitions for e in t.effects]
    return any(e.apply_ci_changes is not None for e in effects)


def _record_for_proposals(session: Session, user: Principal, ref: str) -> RecordRow:
    row = find_record(session, ref=ref, user=user)
    if row.final:
        raise ProblemError(
            409,
            f"{row.number} is closed: its CI changes can no longer change",
            kind="WrongState",
            zh=f"{row.number} 已关闭，其配置项变更不能再修改",
        )
    try:
        definition = pinned_definition(session.get_bind(), row.definition_key, row.definition_version)  # type: ignore[arg-type]
    except DefinitionNotFound:
        definition = None
    if definition is None or not applies_ci_changes(definition.definition):
        raise ProblemError(
            409,
            f"the process of {row.number} does not apply CI changes (no apply_ci_changes effect)",
            kind="NotAllowed",
            zh=f"{row.number} 所属流程不会应用配置项变更（没有 apply_ci_changes 效果）",
        )
    return row


def propose(
    session: Session,
    user: Principal,
    ref: str,
    *,
    action: Action,
    ci: int | None,
    class_name: str | None,
    name: str | None,
    attributes: dict[str, Any],
) -> CiProposalRow:
    row = _record_for_proposals(session, user, ref)
    return proposals.propose(
        session,
        models.current(session),
        record_id=row.id,
        record_number=row.number,
        action=action,
        ci_id=ci,
        class_name=class_name,
        name=name,
        attributes=attributes,
        actor=user.username,
    )


def listed(session: Session, user: Principal, ref: str) -> list[CiProposalRow]:
    row = find_record(session, ref=ref, user=user)
    return proposals.listed(session, row.id)


def withdraw(session: Session, user: Principal, ref: str, proposal_id: int) -> CiProposalRow:
    row = _record_for_proposals(session, user, ref)
    return proposals.withdraw(session, record_id=row.id, proposal_id=proposal_id)
