"""The CAB agenda, and iCalendar feeds of the change schedule: signed-in users create and revoke
their own feeds; a calendar program reads one with the secret in its URL (no sign-in: calendar
programs send no bearer token)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from anyio.to_thread import run_sync
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from temporalio.common import WorkflowIDConflictPolicy

from api.access import Public
from api.deps import (
    ChangeManager,
    CurrentUser,
    EngineDep,
    Idempotent,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
)
from api.problems import ProblemError, responses
from api.services import cmdb as svc
from api.services import schedule_cab as cab
from api.services import schedule_cab_mail as cab_mail
from api.services import schedule_feeds as feeds
from core.db import session_scope
from schedule import agenda, calendars
from schedule.views import AgendaMeeting, AgendaSendIn, AgendaSendOut, CalendarStatus, FeedIn, FeedOut
from workflows.cab_agenda import CabAgendaMailInput
from workflows.contracts import NotifyInput

router = APIRouter(prefix="/api/v1/schedule", tags=["schedule"])

FeedId = Annotated[str, Path(min_length=1, max_length=32, description="A feed's id.")]
Token = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")]


@router.get("/feeds", response_model=list[FeedOut], responses=responses(401))
def list_feeds(user: CurrentUser, session: SessionDep) -> list[FeedOut]:
    """Your feeds (without their secrets)."""
    return feeds.mine(session, user)


@router.post("/feeds", status_code=201, response_model=FeedOut, responses=responses(401, 422))
async def create_feed(
    body: FeedIn, user: CurrentUser, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """A new feed; its `path` (with the secret) is answered this once."""

    return await svc.write(engine, user, idempotency, body, lambda s: feeds.create(s, user, body), status=201)


@router.post("/feeds/{feed_id}/revoke", response_model=FeedOut, responses=responses(401, 404))
async def revoke_feed(
    feed_id: FeedId, user: CurrentUser, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Revoke one of your feeds: its URL answers 404 from now on."""

    return await svc.write(engine, user, idempotency, None, lambda s: feeds.revoke(s, user, feed_id))


@router.get(
    "/feed/{token}.ics",
    dependencies=[Public],
    response_class=Response,
    responses={**responses(404), 200: {"content": {"text/calendar": {}}, "description": "iCalendar"}},
)
def feed(token: Token, request: Request, session: SessionDep) -> Response:
    """The feed's calendar (30 days back, a year ahead), as its owner may see it now."""
    body = feeds.document(session, token, request.url.hostname or "itilflow")
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get(
    "/cab-agenda",
    response_model=list[AgendaMeeting],
    responses={**responses(401, 422), 200: {"content": {"text/csv": {}}, "description": "The agenda."}},
)
def cab_agenda(
    user: CurrentUser,
    session: SessionDep,
    states: Annotated[
        str,
        Query(max_length=500, description="Comma-separated states awaiting the CAB (the shipped change's)."),
    ] = "cab_review,major_review,ecab_review",
    weekday: Annotated[int, Query(ge=1, le=7, description="The CAB's meeting day: 1 Monday … 7 Sunday.")] = 4,
    weeks: Annotated[int, Query(ge=1, le=26, description="How many meetings ahead.")] = 4,
    format: Annotated[Literal["json", "csv"], Query(description="`csv` exports it.")] = "json",
) -> Any:
    """Changes awaiting the CAB, as far as you may see them, grouped by meeting date, with their
    planned window and conflicts; `format=csv` exports it with headers in your language."""
    names = [s.strip() for s in states.split(",") if s.strip()]
    meetings = cab.build(session, user, states=names, weekday=weekday, weeks=weeks)
    if format == "csv":
        return Response(
            agenda.to_csv(meetings, user.language),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="cab-agenda.csv"'},
        )
    return meetings


@router.get("/calendars", response_model=list[CalendarStatus], responses=responses(401))
def calendar_status(user: CurrentUser, session: SessionDep) -> list[CalendarStatus]:
    """The business calendars of the published definitions, each with the last date it declares
    holidays for, and a warning when that is less than 60 days away."""
    return calendars.in_use(session)


@router.post(
    "/cab-agenda/send", status_code=202, response_model=AgendaSendOut, responses=responses(401, 403, 422)
)
async def send_cab_agenda(
    body: AgendaSendIn,
    user: ChangeManager,
    engine: EngineDep,
    settings: SettingsDep,
    client: TemporalClientDep,
    idempotency: Idempotent,
) -> Response:
    """Send the CAB agenda to the active members of the CAB's group (change managers): each member
    gets the changes awaiting the CAB as far as they may see them, grouped by meeting, with planned
    windows (in the organisation's time zone) and conflicts, by e-mail (or in the web inbox without an
    address), in their language. Delivered by the worker through the notification outbox; answered
    202 with who it goes to. With an Idempotency-Key a retry sends nothing more."""
    run_key = idempotency.key or uuid.uuid4().hex

    async def act() -> AgendaSendOut:
        def prepare() -> tuple[list[NotifyInput], list[str], list[date], int]:
            with session_scope(engine) as session:
                return cab_mail.messages(session, user, body, run_key, settings.timezone)

        notes, recipients, meetings, changes = await run_sync(prepare)
        if not recipients:
            raise ProblemError(
                422,
                f"the group {body.group} has no active member to send the agenda to",
                zh=f"组 {body.group} 没有可接收议程的在职成员",
                kind="NoRecipients",
                errors=[{"path": "group", "message": "no active member / 没有在职成员"}],
            )
        workflow_id = f"cab-agenda-{user.username}-{run_key}"[:200]
        await client.start_workflow(
            "CabAgendaMail",
            CabAgendaMailInput(messages=notes),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return AgendaSendOut(
            workflow_id=workflow_id, recipients=recipients, meetings=meetings, changes=changes
        )

    return await idempotency.respond(body, act, status=202)
