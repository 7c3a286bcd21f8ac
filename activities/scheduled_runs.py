"""The `start_scheduled_record` activity: one due firing of a schedule of records (issue 20).

Decides whether the firing is an occurrence on the schedule's business calendar and what the catch-up
policy says of a late one (recurring/occurrences.py), then starts the record through the API's
launcher (client/launch.py) as `system:schedule:<id>`, with a record id derived from (schedule,
occurrence): a retried activity finds the record it started. The run is kept in `schedule_runs`,
unique per occurrence; a refusal by the definition's rules (fields the definition no longer accepts)
is kept there with its words in zh and en, and starts nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from anyio.to_thread import run_sync
from sqlalchemy import Engine
from sqlmodel import select
from temporalio import activity
from temporalio.client import Client

from client.launch import DefinitionNotFound, launch_record, pinned_definition, record_id_for
from core.db import session_scope
from definitions.calendar import BusinessCalendar
from definitions.loader import PinnedDefinition
from definitions.recurrence import parse_recurrence
from recurring import occurrence_values, store
from recurring.errors import ScheduleError
from recurring.occurrences import Decision, calendar_for, decide
from recurring.tables import RecordScheduleRow, ScheduleRunRow
from workflows.engine import Refusal
from workflows.scheduled_run import StartScheduledInput, StartScheduledResult

_SKIPPED = {
    "late": (
        "Missed while the system was down; this schedule skips missed runs.",
        "系统停机期间错过；本计划不补跑错过的运行。",
    ),
    "superseded": (
        "Missed while the system was down; only the last missed occurrence was started.",
        "系统停机期间错过；只补跑了最近一次错过的运行。",
    ),
}
_LATE = ("Started late, after downtime (catch-up: once).", "停机恢复后补跑（补跑一次）。")


class ScheduledRunActivities:
    def __init__(self, client: Client, engine: Engine, task_queue: str) -> None:
        self.client = client
        self.engine = engine
        self.task_queue = task_queue

    @activity.defn(name="start_scheduled_record")
    async def start_scheduled_record(self, inp: StartScheduledInput) -> StartScheduledResult:
        at = inp.scheduled_at.astimezone(UTC)
        found = await run_sync(self._prepare, inp.schedule_id, at)
        if isinstance(found, StartScheduledResult):
            return found
        row, decision, cal = found
        if decision.action == "skip":
            en, zh = _SKIPPED[decision.reason or "late"]
            return await run_sync(self._record, inp, "skipped", decision.reason, en, zh, None, None)
        try:
            pinned = pinned_definition(self.engine, row.definition)
        except DefinitionNotFound:
            en, zh = (
                f"The process '{row.definition}' is not published.",
                f"流程 {row.definition} 没有已发布的版本。",
            )
            return await run_sync(self._record, inp, "refused", "NotFound", en, zh, None, None)
        try:
            snapshot = await launch_record(
                self.client,
                self.engine,
                task_queue=self.task_queue,
                pinned=pinned,
                record_id=record_id_for(f"schedule:{row.id}:{at.isoformat()}"),
                title=row.title,
                fields=occurrence_values.resolve(row.fields, at, cal),
                actor=store.schedule_actor(row.id),
            )
        except Refusal as refusal:
            chinese = _in_chinese(pinned, row, at, cal) or refusal.message
            return await run_sync(
                self._record, inp, "refused", refusal.kind, refusal.message, chinese, None, None
            )
        words: tuple[str | None, str | None] = _LATE if decision.reason == "late" else (None, None)
        return await run_sync(
            self._record, inp, "started", decision.reason, *words, snapshot.id, snapshot.number
        )

    def _prepare(
        self, schedule_id: str, at: datetime
    ) -> StartScheduledResult | tuple[RecordScheduleRow, Decision, BusinessCalendar]:
        with session_scope(self.engine) as session:
            row = session.get(RecordScheduleRow, schedule_id)
            if row is None or row.deleted_at is not None:
                return StartScheduledResult(status="gone")
            done = session.exec(
                select(ScheduleRunRow).where(
                    ScheduleRunRow.schedule_id == schedule_id, ScheduleRunRow.scheduled_at == at
                )
            ).first()
            if done is not None:  # a run Temporal started again, or a retry after the row was written
                return StartScheduledResult(status=done.status, record_id=done.record_id, number=done.number)
            try:
                cal = calendar_for(session, row.calendar, row.timezone)
            except ScheduleError:
                return StartScheduledResult(status="not_due")
            decision = decide(parse_recurrence(row.rule), cal, at, datetime.now(UTC), row.catch_up)
            if decision.action == "not_due":
                return StartScheduledResult(status="not_due")
            session.expunge(row)
            return row, decision, cal

    def _record(
        self,
        inp: StartScheduledInput,
        status: str,
        reason: str | None,
        en: str | None,
        zh: str | None,
        record_id: str | None,
        number: str | None,
    ) -> StartScheduledResult:
        at = inp.scheduled_at.astimezone(UTC)
        with session_scope(self.engine) as session:
            exists = session.exec(
                select(ScheduleRunRow).where(
                    ScheduleRunRow.schedule_id == inp.schedule_id, ScheduleRunRow.scheduled_at == at
                )
            ).first()
            if exists is None:
                session.add(
                    ScheduleRunRow(
                        schedule_id=inp.schedule_id,
                        scheduled_at=at,
                        ran_at=datetime.now(UTC),
                        status=status,
                        reason=str(reason) if reason else None,
                        message_en=en,
                        message_zh=zh,
                        record_id=record_id,
                        number=number,
                        workflow_id=inp.workflow_id,
                    )
                )
        return StartScheduledResult(status=status, record_id=record_id, number=number)


def _in_chinese(
    pinned: PinnedDefinition, row: RecordScheduleRow, at: datetime, cal: BusinessCalendar
) -> str | None:
    """The refusal in Chinese: the engine words it in the actor's language, so ask it again in zh."""
    fields = occurrence_values.resolve(row.fields, at, cal)
    try:
        store.check_fields(pinned, row.title, fields, datetime.now(UTC), "zh")
    except ScheduleError as exc:
        return exc.zh
    return None
