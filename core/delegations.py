"""Which delegations are in force: shared by the API (the inbox, a decision's pre-check) and the
worker's `check_delegation` activity (the workflow's own check), so both read the same rule.

A delegation is in force at instant `at` when it is not revoked and `starts_at <= at < ends_at`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from core.tables import DelegationRow


def _in_force(at: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(DelegationRow.revoked_at).is_(None),
        col(DelegationRow.starts_at) <= at,
        col(DelegationRow.ends_at) > at,
    )


def delegation_in_force(
    session: Session, *, principal: str, substitute: str, at: datetime
) -> DelegationRow | None:
    """The delegation from `principal` to `substitute` in force at `at` (the earliest made), if any."""
    query = (
        select(DelegationRow)
        .where(DelegationRow.principal == principal, DelegationRow.substitute == substitute, *_in_force(at))
        .order_by(col(DelegationRow.id))
    )
    return session.exec(query).first()


def principals_of(session: Session, *, substitute: str, at: datetime) -> list[str]:
    """Everyone `substitute` stands in for at `at`."""
    query = select(DelegationRow.principal).where(DelegationRow.substitute == substitute, *_in_force(at))
    return sorted(set(session.exec(query).all()))
