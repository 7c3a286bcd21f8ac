"""Directory look-ups the workflow needs: who is in a group or holds a role, and who stands in for
whom (delegations), right now."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from core.db import session_scope
from core.delegations import delegation_in_force
from core.store import resolve_approvers
from workflows.contracts import (
    CheckDelegationInput,
    CheckDelegationResult,
    ResolveApproversInput,
    ResolveApproversResult,
)


class DirectoryActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="resolve_approvers")
    def resolve_approvers(self, inp: ResolveApproversInput) -> ResolveApproversResult:
        with session_scope(self.engine) as session:
            users = resolve_approvers(session, users=inp.users, groups=inp.groups, roles=inp.roles)
        return ResolveApproversResult(users=users)

    @activity.defn(name="check_delegation")
    def check_delegation(self, inp: CheckDelegationInput) -> CheckDelegationResult:
        """The delegation from `principal` to `substitute` in force at `at` (the workflow's time)."""
        with session_scope(self.engine) as session:
            row = delegation_in_force(session, principal=inp.principal, substitute=inp.substitute, at=inp.at)
        return CheckDelegationResult(delegation=row.id if row is not None else None)
