"""The `resolve_shared_calendars` activity: the shared business calendars in force for a starting record
(schedule/shared_store.py), asked by the workflow as a local activity (workflows/shared_calendars.py)."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from core.db import session_scope
from schedule import shared_store
from workflows.shared_calendars import PinnedCalendar, ResolveCalendarsInput, ResolveCalendarsResult


class CalendarActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="resolve_shared_calendars")
    def resolve_shared_calendars(self, inp: ResolveCalendarsInput) -> ResolveCalendarsResult:
        with session_scope(self.engine) as session:
            found = shared_store.resolve(session, inp.names)
        return ResolveCalendarsResult(
            calendars={name: PinnedCalendar(version=v, calendar=c) for name, (v, c) in found.items()}
        )
