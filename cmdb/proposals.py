"""CI changes proposed on a change and applied when the change is implemented and verified, so that
"changes update the CMDB" (seed 002 §8.3.6, §8.3.5; seed 003 §11.1 "配置项的变更应可追踪的和可审核的",
App. B.11 配置项与变更工单的匹配率) is a fact, not a checkbox.

A proposal is checked when it is made (the CI exists and is active, the attributes fit the model in
force), so a CAB decides on something that can apply; it is checked again when it applies, since the
CMDB may have moved meanwhile. Applying is idempotent: each proposal applies once, in a transaction of
its own (activities/ci_changes.py), in id order; one that no longer fits is marked failed with the
reason (zh and en) and the others still apply. Every CI version it makes names the change's number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel import Session, col, select

from cmdb import cis
from cmdb.errors import CmdbError, invalid, not_found
from cmdb.issues import Issue
from cmdb.model import CmdbModel
from cmdb.models import now
from cmdb.tables import CiProposalRow

Action = Literal["create", "update", "retire"]
MAX_PER_RECORD = 200


@dataclass
class Applied:
    applied: list[int] = field(default_factory=list)  # proposal ids applied now or before
    failed: list[dict[str, Any]] = field(default_factory=list)  # {id, en, zh}


def _refused(en: str, zh: str) -> CmdbError:
    return CmdbError(409, "ProposalRefused", en, zh)


def propose(
    session: Session,
    model: tuple[int, CmdbModel],
    *,
    record_id: str,
    record_number: str,
    action: Action,
    ci_id: int | None,
    class_name: str | None,
    name: str | None,
    attributes: Mapping[str, Any],
    actor: str,
) -> CiProposalRow:
    """Record a proposal after checking it against the CMDB as it is now."""
    count = len(session.exec(select(CiProposalRow.id).where(CiProposalRow.record_id == record_id)).all())
    if count >= MAX_PER_RECORD:
        raise _refused(
            f"a change holds at most {MAX_PER_RECORD} CI changes",
            f"一个变更最多包含 {MAX_PER_RECORD} 项配置项变更",
        )
    _check(session, model[1], action, ci_id, class_name, name, attributes)
    row = CiProposalRow(
        record_id=record_id,
        record_number=record_number,
        action=action,
        ci_id=ci_id if action != "create" else None,
        class_name=class_name if action == "create" else None,
        name=name,
        attributes=dict(attributes),
        proposed_by=actor,
        proposed_at=now(),
    )
    session.add(row)
    session.flush()
    return row


def _check(
    session: Session,
    model: CmdbModel,
    action: Action,
    ci_id: int | None,
    class_name: str | None,
    name: str | None,
    attributes: Mapping[str, Any],
) -> None:
    if action == "create":
        if not class_name or not name:
            raise invalid(
                [Issue("class" if not class_name else "name", "required to create a CI", "新建配置项时必填")]
            )
        cls = cis.class_of(model, class_name)
        _, issues = cis.check(cls, name, attributes)
        if issues:
            raise invalid(issues)
        return
    if ci_id is None:
        raise invalid([Issue("ci", "which CI to change", "须指明要变更的配置项")])
    ci = cis.load(session, ci_id)
    cis.ensure_active(ci)
    if action == "update":
        cls = cis.class_of(model, ci.class_name)
        merged = {k: v for k, v in {**ci.attributes, **attributes}.items() if v is not None}
        _, issues = cis.check(cls, ci.name if name is None else name, merged)
        if issues:
            raise invalid(issues)


def listed(session: Session, record_id: str) -> list[CiProposalRow]:
    return list(
        session.exec(
            select(CiProposalRow).where(CiProposalRow.record_id == record_id).order_by(col(CiProposalRow.id))
        ).all()
    )


def withdraw(session: Session, *, record_id: str, proposal_id: int) -> CiProposalRow:
    row = session.get(CiProposalRow, proposal_id)
    if row is None or row.record_id != record_id:
        raise not_found(f"CI change {proposal_id} on this record", f"本记录上的配置项变更 {proposal_id}")
    if row.state != "proposed":
        raise _refused(
            f"CI change {proposal_id} is {row.state}; only a proposed one can be withdrawn",
            f"配置项变更 {proposal_id} 已{_STATE_ZH.get(row.state, row.state)}，只有待实施的才能撤回",
        )
    row.state, row.decided_at = "withdrawn", now()
    session.add(row)
    session.flush()
    return row


_STATE_ZH = {"applied": "生效", "failed": "失败", "withdrawn": "撤回"}


def pending(session: Session, record_id: str) -> list[int]:
    """The ids of the record's proposals still to apply, in the order they were made."""
    return [_id(row) for row in listed(session, record_id) if row.state == "proposed"]


def apply_one(session: Session, model: tuple[int, CmdbModel], proposal_id: int, actor: str) -> None:
    """Apply one proposal in the caller's transaction (raises CmdbError when it no longer fits: the
    caller rolls back and marks it failed in a transaction of its own)."""
    row = session.get(CiProposalRow, proposal_id)
    if row is None or row.state != "proposed":
        return  # applied or decided by an earlier attempt
    ci = _change(session, model, row, actor)
    row.state, row.decided_at, row.result_ci_id = "applied", now(), ci
    session.add(row)
    session.flush()


def mark_failed(session: Session, proposal_id: int, exc: CmdbError) -> None:
    row = session.get(CiProposalRow, proposal_id)
    if row is None or row.state != "proposed":
        return
    row.state, row.decided_at = "failed", now()
    row.error = {"en": exc.en, "zh": exc.zh, "issues": [i.message("en") for i in exc.issues]}
    session.add(row)
    session.flush()


def outcome(session: Session, record_id: str) -> Applied:
    """What became of the record's proposals: applied ones, failed ones with their reasons."""
    result = Applied()
    for row in listed(session, record_id):
        if row.state == "applied":
            result.applied.append(_id(row))
        elif row.state == "failed":
            result.failed.append({"id": _id(row), **(row.error or {})})
    return result


def _change(session: Session, model: tuple[int, CmdbModel], row: CiProposalRow, actor: str) -> int | None:
    number = row.record_number
    if row.action == "create":
        assert row.class_name is not None and row.name is not None
        created = cis.create(
            session,
            model=model,
            class_name=row.class_name,
            name=row.name,
            attributes=row.attributes,
            actor=actor,
            record=number,
        )
        return created.id
    assert row.ci_id is not None
    if row.action == "update":
        cis.update(
            session,
            model=model,
            ci_id=row.ci_id,
            name=row.name,
            attributes=row.attributes,
            actor=actor,
            record=number,
            through_change=True,
        )
    else:
        cis.retire(session, ci_id=row.ci_id, actor=actor, record=number, model=model[1], through_change=True)
    return row.ci_id


def _id(row: CiProposalRow) -> int:
    assert row.id is not None
    return row.id
