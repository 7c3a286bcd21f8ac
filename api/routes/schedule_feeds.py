"""The CAB agenda, and iCalendar feeds of the change schedule: signed-in users create and revoke
their own feeds; a calendar program reads one with the secret in its URL (no sign-in: calendar
programs send no bearer token)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.access import Public
from api.deps import CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import responses
from api.services import cmdb as svc
from api.services import schedule_cab as cab
from api.services import schedule_feeds as feeds
from schedule import agenda, calendars
from schedule.views import AgendaMeeting, CalendarStatus, FeedIn, FeedOut

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
