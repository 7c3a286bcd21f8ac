"""Approvals: the tasks waiting for the caller's decision, and the decision itself.

The inbox is read from the read model; a decision is an Update of the record's workflow, which
checks that the caller is one of the task's approvers and applies the policy (any, all, quorum…).
"""

from __future__ import annotations

from typing import Literal

from sqlmodel import Session, col, select
from temporalio.client import Client

from api.auth import Principal
from api.problems import forbidden, not_found
from api.schemas import ApprovalOut, ApprovalRecord
from api.services.lookup import may_see, may_see_key, record_key_by_id
from api.services.updates import send_update
from api.services.visibility import restriction
from core.delegations import delegation_in_force, principals_of
from core.store import utcnow
from core.tables import ApprovalApproverRow, ApprovalRow, RecordRow
from workflows.contracts import ApprovalTask, DecideApprovalInput, RecordSnapshot
from workflows.process import ProcessWorkflow


def _approval_out(task: ApprovalTask, row: RecordRow | RecordSnapshot) -> ApprovalOut:
    """A task with its record: from the read model for the inbox, from the snapshot a decision returns."""
    if isinstance(row, RecordRow):
        record = ApprovalRecord(
            id=row.id,
            number=row.number,
            title=row.title,
            definition=row.definition_key,
            state=row.state,
            state_category=row.state_category,
            priority=row.priority,
            requester=row.requester,
            fields=row.fields or {},
        )
    else:
        record = ApprovalRecord(
            id=row.id,
            number=row.number,
            title=row.title,
            definition=row.definition,
            state=row.state,
            state_category=row.state_category,
            priority=row.priority,
            requester=row.requester,
            fields=row.fields,
        )
    return ApprovalOut(**task.model_dump(), record=record)


def pending_approvals(*, session: Session, user: Principal) -> list[ApprovalOut]:
    """Tasks waiting for the caller's decision, oldest first: their own, and those of every approver
    they stand in for now (a delegation), each marked with whom it would be decided for."""
    whom = [user.username, *principals_of(session, substitute=user.username, at=utcnow())]
    rows = session.exec(
        select(ApprovalRow, RecordRow, ApprovalApproverRow.username)
        .join(ApprovalApproverRow, col(ApprovalApproverRow.approval_id) == col(ApprovalRow.id))
        .join(RecordRow, col(RecordRow.id) == col(ApprovalRow.record_id))
        .where(col(ApprovalApproverRow.username).in_(whom), ApprovalRow.state == "pending")
        .order_by(col(ApprovalRow.opened_at), col(ApprovalRow.id), col(ApprovalApproverRow.username))
    ).all()
    out = []
    for approval, record, approver in rows:
        if approver != user.username and not _substitute_may_see(session, user, record):
            continue
        item = _approval_out(ApprovalTask.model_validate(approval.data), record)
        if approver != user.username:
            item.on_behalf_of = approver
        out.append(item)
    return out


def _substitute_may_see(session: Session, user: Principal, record: RecordRow) -> bool:
    """A substitute decides what their approver may, except on a definition whose `visibility:`
    restricts it: there they must be allowed to see the record themselves (an approver cannot open a
    security incident to anyone by naming them)."""
    if restriction(session, record.definition_key, record.definition_version) is None:
        return True
    return may_see(
        session,
        user,
        record.id,
        record.requester,
        record.assignee,
        record.fields,
        (record.definition_key, record.definition_version),
    )


async def decide(
    *,
    session: Session,
    client: Client,
    user: Principal,
    approval_id: str,
    decision: Literal["approve", "reject"],
    comment: str | None,
    update_id: str | None,
    on_behalf_of: str | None = None,
) -> ApprovalOut:
    """Approve or reject; answers with the task and its outcome so far (the record may have moved)."""
    approval = session.get(ApprovalRow, approval_id) if len(approval_id) <= 80 else None
    if approval is None:
        raise not_found(f"no approval '{approval_id}'", zh=f"没有审批“{approval_id}”")
    row = record_key_by_id(session, approval.record_id)
    if row is None:  # pragma: no cover - written in one transaction with the approval
        raise not_found(f"no approval '{approval_id}'", zh=f"没有审批“{approval_id}”")
    # Someone who may not see the record learns nothing of it: not its number, not the step (the
    # workflow's "not an approver" refusal names both). Approvers see the records they decide on.
    if on_behalf_of is not None:
        _check_delegation(session, user, on_behalf_of, approval)
    elif not may_see_key(session, user, approval.record_id):
        raise not_found(f"no approval '{approval_id}'", zh=f"没有审批“{approval_id}”")
    # No pre-check of the task's state here: a retried decision (same update id) must reach the
    # workflow, which answers it with the current task instead of "already decided".
    inp = DecideApprovalInput(
        actor=user.actor(),
        approval_id=approval_id,
        decision=decision,
        comment=comment,
        on_behalf_of=on_behalf_of,
    )
    snap = await send_update(session, client, row, ProcessWorkflow.decide_approval, inp, update_id=update_id)
    task = next((t for t in snap.approvals if t.id == approval_id), None)
    if task is None:  # pragma: no cover - an approval never leaves its record
        raise not_found(f"no approval '{approval_id}'", zh=f"没有审批“{approval_id}”")
    return _approval_out(task, snap)


def _check_delegation(session: Session, user: Principal, principal: str, approval: ApprovalRow) -> None:
    """A decision as someone's substitute: a delegation must be in force (403 naming the rule), and the
    approver stood in for must be one of the task's approvers, or the caller may see the record anyway
    (else 404: the substitute learns nothing of records their approver does not decide). The workflow
    checks the delegation again itself; this answers the usual case early and in the caller's language."""
    if delegation_in_force(session, principal=principal, substitute=user.username, at=utcnow()) is None:
        raise forbidden(
            f"委托：{principal} 当前没有委托您代为审批（规则：委托）"
            if user.language == "zh"
            else f"delegation: {principal} has no delegation to you in force now (rule: delegation)"
        )
    eligible = (approval.data or {}).get("eligible", ())
    record = session.get(RecordRow, approval.record_id)
    may_stand_in = principal in eligible and record is not None and _substitute_may_see(session, user, record)
    if not may_stand_in and not may_see_key(session, user, approval.record_id):
        raise not_found(f"no approval '{approval.id}'", zh=f"没有审批“{approval.id}”")
