"""Schedules of records (issue 20, docs/schedules.md): process owners schedule records of a definition
on a business-calendar rhythm; a Temporal Schedule fires each one (visible in the Temporal UI)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import EngineDep, Idempotent, ProcessOwner, SettingsDep, TemporalClientDep
from api.problems import responses
from api.services import schedules as svc
from recurring.views import ScheduleIn, ScheduleOut, SchedulePatch, ScheduleRunOut

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])
ScheduleId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$", description="The schedule's id.")]


@router.get("", response_model=list[ScheduleOut], responses=responses(401, 403))
def list_schedules(
    user: ProcessOwner,
    engine: EngineDep,
    definition: Annotated[str | None, Query(max_length=64, description="Only this definition's.")] = None,
) -> list[ScheduleOut]:
    """Every schedule in force (paused ones too), with its next occurrences."""
    return svc.listing(engine, definition)


@router.post("", status_code=201, response_model=ScheduleOut, responses=responses(401, 403, 422))
async def create_schedule(
    body: ScheduleIn,
    user: ProcessOwner,
    engine: EngineDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency: Idempotent,
) -> Response:
    """Schedule records of a published definition. A rule that is malformed or never fires, an unknown
    calendar or owner, or fields the definition would refuse at start are refused field by field, and
    nothing is written (no row, no Temporal Schedule)."""

    async def act() -> ScheduleOut:
        with svc.refusals():
            return await svc.create(client, engine, settings.task_queue, user, body)

    return await idempotency.respond(body, act, status=201)


@router.get("/{schedule_id}", response_model=ScheduleOut, responses=responses(401, 403, 404))
def get_schedule(schedule_id: ScheduleId, user: ProcessOwner, engine: EngineDep) -> ScheduleOut:
    """One schedule (a deleted one too, with `deleted: true`)."""
    return svc.read(engine, schedule_id)


@router.patch("/{schedule_id}", response_model=ScheduleOut, responses=responses(401, 403, 404, 422))
async def patch_schedule(
    schedule_id: ScheduleId,
    body: SchedulePatch,
    user: ProcessOwner,
    engine: EngineDep,
    idempotency: Idempotent,
) -> Response:
    """Change the name, the records' title or fields, the owner or the catch-up policy; the next run
    starts with them. (A new rhythm is a new schedule: delete this one.)"""
    return await idempotency.respond(body, lambda: svc.patch(engine, user, schedule_id, body))


@router.post("/{schedule_id}/pause", response_model=ScheduleOut, responses=responses(401, 403, 404))
async def pause_schedule(
    schedule_id: ScheduleId,
    user: ProcessOwner,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Pause: no run fires until it is resumed, and the occurrences in between are not caught up."""
    return await idempotency.respond(None, lambda: svc.set_paused(client, engine, user, schedule_id, True))


@router.post("/{schedule_id}/resume", response_model=ScheduleOut, responses=responses(401, 403, 404))
async def resume_schedule(
    schedule_id: ScheduleId,
    user: ProcessOwner,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Resume a paused schedule from its next occurrence."""
    return await idempotency.respond(None, lambda: svc.set_paused(client, engine, user, schedule_id, False))


@router.delete("/{schedule_id}", response_model=ScheduleOut, responses=responses(401, 403, 404))
async def delete_schedule(
    schedule_id: ScheduleId,
    user: ProcessOwner,
    engine: EngineDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Stop the schedule for good (its Temporal Schedule is deleted); it and its runs stay readable."""
    return await idempotency.respond(None, lambda: svc.delete(client, engine, schedule_id))


@router.get("/{schedule_id}/runs", response_model=list[ScheduleRunOut], responses=responses(401, 403, 404))
def schedule_runs(
    schedule_id: ScheduleId,
    user: ProcessOwner,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ScheduleRunOut]:
    """The history of runs, newest first: each due occurrence and what it did — the record it started,
    skipped after downtime (and why), or refused by the definition's rules (and why)."""
    return svc.runs(engine, user, schedule_id, limit)
