"""A new record's shared business calendars: a definition that names a shared calendar
(`calendars: {business: {shared: china_business}}`) runs on the version in force when the record
starts. The workflow asks the read model for it (a local activity, recorded in the history, so a replay
pins the same days) and keeps it for the record's life: it travels with continue-as-new inside the
pinned definition, and an administrator's later version never moves a deadline already running.

No patch marker: only definitions written after shared calendars existed name one, so no recorded
history meets this look-up on replay without having made it.
"""

from __future__ import annotations

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.calendar import BusinessCalendar
    from definitions.loader import PinnedDefinition, definition_hash
    from workflows.calls import DB_RETRY, DB_TIMEOUT
    from workflows.contracts import Actor, Contract, RecordState, StartProcessInput
    from workflows.engine import Outcome, ProcessEngine


class ResolveCalendarsInput(Contract):
    names: list[str]


class PinnedCalendar(Contract):
    version: int
    calendar: BusinessCalendar


class ResolveCalendarsResult(Contract):
    calendars: dict[str, PinnedCalendar] = Field(default_factory=dict)


def shared_names(pinned: PinnedDefinition) -> list[str]:
    return sorted({c.shared for c in pinned.definition.calendars.values() if c.shared is not None})


def applied(pinned: PinnedDefinition, found: ResolveCalendarsResult) -> PinnedDefinition:
    """The pinned definition with each shared reference replaced by the days it resolved to (the
    reference's own label, when it has one, names it)."""
    d = pinned.definition
    calendars = {}
    for name, cal in d.calendars.items():
        if cal.shared is None:
            calendars[name] = cal
            continue
        resolved = found.calendars[cal.shared].calendar
        calendars[name] = resolved.model_copy(update={"label": cal.label}) if cal.label else resolved
    definition = d.model_copy(update={"calendars": calendars})
    return PinnedDefinition(
        key=pinned.key, version=pinned.version, hash=definition_hash(definition), definition=definition
    )


async def run_on_shared_calendars(
    inp: StartProcessInput, record: RecordState
) -> tuple[StartProcessInput, ProcessEngine, Outcome] | None:
    """The new record made again on the shared calendars in force, with an audit event naming each and
    its version; None when the definition names no shared calendar."""
    names = shared_names(inp.definition)
    if not names:
        return None
    found: ResolveCalendarsResult = await workflow.execute_local_activity(
        "resolve_shared_calendars",
        ResolveCalendarsInput(names=names),
        result_type=ResolveCalendarsResult,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    inp = inp.model_copy(update={"definition": applied(inp.definition, found)})
    now = record.created_at
    engine, startup = ProcessEngine.create(inp, now)
    versions = {name: found.calendars[name].version for name in names}
    engine.note(startup, now, Actor.system("calendar"), "calendar_pinned", {"calendars": versions})
    return inp, engine, startup
