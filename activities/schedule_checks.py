"""The `check_schedule` activity: the change-schedule check of a transition (schedule/record_check.py),
asked by the workflow as a local activity (workflows/schedule_checks.py)."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from core.db import session_scope
from schedule import record_check
from workflows.engine.schedule_checks import ScheduleCheckInput, ScheduleCheckResult, ScheduleFinding


class ScheduleCheckActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="check_schedule")
    def check_schedule(self, inp: ScheduleCheckInput) -> ScheduleCheckResult:
        with session_scope(self.engine) as session:
            violations, conflicts = record_check.findings(
                session,
                record_id=inp.record_id,
                number=inp.number,
                start=inp.planned_start,
                end=inp.planned_end,
                cis=inp.cis,
                implementer=inp.implementer,
                ecab_approved=inp.ecab_approved,
                maintenance_window=inp.maintenance_window,
            )
        return ScheduleCheckResult(
            violations=[ScheduleFinding.model_validate(v) for v in violations],
            conflicts=[ScheduleFinding.model_validate(c) for c in conflicts],
        )
