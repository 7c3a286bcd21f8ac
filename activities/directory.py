"""Directory look-ups the workflow needs: who is in a group or holds a role, right now."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from core.db import session_scope
from core.store import resolve_approvers
from workflows.contracts import ResolveApproversInput, ResolveApproversResult


class DirectoryActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="resolve_approvers")
    def resolve_approvers(self, inp: ResolveApproversInput) -> ResolveApproversResult:
        with session_scope(self.engine) as session:
            users = resolve_approvers(session, users=inp.users, groups=inp.groups, roles=inp.roles)
        return ResolveApproversResult(users=users)
