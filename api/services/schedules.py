"""Schedules of records (issue 20, docs/schedules.md): what the API and the CLI do with them.

A new schedule is checked whole before anything is written (rule, calendar, owner, the fields against
the definition's start rules); then its Temporal Schedule is created, then its row. Pausing, resuming
and deleting act on Temporal first, then on the row: a failure in between leaves the row saying what
Temporal did not do yet, and the same request again finishes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from anyio.to_thread import run_sync
from sqlalchemy import Engine
from temporalio.client import Client

from api.auth import Principal
from api.problems import ProblemError
from client import schedules as temporal
from client.launch import DefinitionNotFound, pinned_definition
from core.db import session_scope
from definitions.loader import PinnedDefinition
from definitions.recurrence import parse_recurrence
from recurring import store
from recurring.errors import ScheduleError
from recurring.tables import RecordScheduleRow
from recurring.views import ScheduleIn, ScheduleOut, SchedulePatch, ScheduleRunOut

STATUS = {"invalid": 422, "not_found": 404, "conflict": 409}


@contextmanager
def refusals() -> Iterator[None]:
    """A `ScheduleError` as a problem naming the field, in zh and en; nothing was written."""
    try:
        yield
    except ScheduleError as exc:
        raise ProblemError(
            STATUS[exc.kind],
            exc.en,
            zh=exc.zh,
            kind="NotFound" if exc.kind == "not_found" else "InvalidSchedule",
            errors=[{"path": exc.path, "message": exc.zh if exc.en == exc.zh else exc.en}],
        ) from None


def _pinned(engine: Engine, key: str) -> PinnedDefinition:
    try:
        return pinned_definition(engine, key)
    except DefinitionNotFound:
        raise ScheduleError(
            "definition", f"no published definition {key!r}", f"没有已发布的流程定义 {key!r}"
        ) from None


def _note(user: Principal, what: str) -> str:
    return f"{what} by {user.username} (itilflow)"


async def create(
    client: Client, engine: Engine, task_queue: str, user: Principal, body: ScheduleIn
) -> ScheduleOut:
    now = datetime.now(UTC)

    def check() -> tuple[RecordScheduleRow, PinnedDefinition]:
        with refusals():
            pinned = _pinned(engine, body.definition)
            with session_scope(engine) as session:
                row = store.prepare(
                    session, body, pinned=pinned, caller=user.username, now=now, lang=user.language
                )
            return row, pinned  # not added to the session: stored once Temporal has its schedule

    row, _ = await run_sync(check)
    await temporal.create(
        client,
        row.id,
        parse_recurrence(row.rule),
        row.timezone,
        task_queue=task_queue,
        paused=row.paused,
        note=_note(user, "created"),
    )

    def save() -> ScheduleOut:
        with session_scope(engine) as session:
            session.add(row)
            session.flush()
            return store.out(session, row, now)

    try:
        return await run_sync(save)
    except Exception:
        await temporal.delete(client, row.id)  # nothing half-made: no row, no Temporal Schedule
        raise


def read(engine: Engine, schedule_id: str) -> ScheduleOut:
    with refusals(), session_scope(engine) as session:
        return store.out(session, store.get(session, schedule_id, deleted=True), datetime.now(UTC))


def _live(engine: Engine, schedule_id: str) -> None:
    with refusals(), session_scope(engine) as session:
        store.get(session, schedule_id)


def listing(engine: Engine, definition: str | None) -> list[ScheduleOut]:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        return [store.out(session, row, now) for row in store.listing(session, definition)]


def runs(engine: Engine, user: Principal, schedule_id: str, limit: int) -> list[ScheduleRunOut]:
    with refusals(), session_scope(engine) as session:
        return store.runs(session, schedule_id, user.language, limit)


async def patch(engine: Engine, user: Principal, schedule_id: str, body: SchedulePatch) -> ScheduleOut:
    now = datetime.now(UTC)

    def change() -> ScheduleOut:
        with refusals(), session_scope(engine) as session:
            row = store.get(session, schedule_id)
            pinned = _pinned(engine, row.definition)
            store.apply_patch(session, row, body, pinned=pinned, now=now, lang=user.language)
            session.flush()
            return store.out(session, row, now)

    return await run_sync(change)


async def set_paused(
    client: Client, engine: Engine, user: Principal, schedule_id: str, paused: bool
) -> ScheduleOut:
    await run_sync(_live, engine, schedule_id)  # 404 before touching Temporal
    if paused:
        await temporal.pause(client, schedule_id, _note(user, "paused"))
    else:
        await temporal.resume(client, schedule_id, _note(user, "resumed"))

    def save() -> ScheduleOut:
        now = datetime.now(UTC)
        with refusals(), session_scope(engine) as session:
            row = store.get(session, schedule_id)
            row.paused, row.updated_at = paused, now
            session.add(row)
            session.flush()
            return store.out(session, row, now)

    return await run_sync(save)


async def delete(client: Client, engine: Engine, schedule_id: str) -> ScheduleOut:
    """Stops the schedule for good; its row and its runs stay readable."""
    await run_sync(read, engine, schedule_id)  # 404 for an unknown id; a deleted one deletes again
    await temporal.delete(client, schedule_id)

    def save() -> ScheduleOut:
        now = datetime.now(UTC)
        with refusals(), session_scope(engine) as session:
            row = store.get(session, schedule_id, deleted=True)
            if row.deleted_at is None:
                row.deleted_at = row.updated_at = now
                session.add(row)
                session.flush()
            return store.out(session, row, now)

    return await run_sync(save)
