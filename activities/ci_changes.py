"""The `apply_ci_changes` activity: a change, implemented and verified, applies the CI changes proposed
on it to the CMDB (cmdb/proposals.py). Each proposal applies in a transaction of its own, so one that
no longer fits (a key taken meanwhile, a CI retired since) is marked failed and the others still apply;
a retry after a lost answer finds its own earlier work (each proposal applies once) and reports it."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from cmdb import models, proposals
from cmdb.errors import CmdbError
from core.db import write_scope
from workflows.contracts import ApplyCiChangesInput, ApplyCiChangesResult, CiChangeFailure


class CiChangeActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="apply_ci_changes")
    def apply_ci_changes(self, inp: ApplyCiChangesInput) -> ApplyCiChangesResult:
        with write_scope(self.engine) as session:
            todo = proposals.pending(session, inp.record_id)
        for proposal_id in todo:
            try:
                with write_scope(self.engine) as session:
                    proposals.apply_one(session, models.current(session), proposal_id, inp.actor)
            except CmdbError as exc:
                with write_scope(self.engine) as session:
                    proposals.mark_failed(session, proposal_id, exc)
        with write_scope(self.engine) as session:
            done = proposals.outcome(session, inp.record_id)
        return ApplyCiChangesResult(
            applied=done.applied, failed=[CiChangeFailure.model_validate(f) for f in done.failed]
        )
