"""iCalendar feeds of the change schedule: signed-in users create and revoke their own; a calendar
program reads one with the secret in its URL (no sign-in: calendar programs send no bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.access import Public
from api.deps import CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import responses
from api.services import cmdb as svc
from api.services import schedule_feeds as feeds
from schedule.views import FeedIn, FeedOut

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
