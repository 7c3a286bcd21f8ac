"""Shared business calendars: every signed-in user reads them (with the holidays they declare and a
warning when those run out); administrators publish a new version, which reaches records started
after it without republishing any definition."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.deps import AdminUser, CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import responses
from api.services import cmdb as svc
from schedule import shared_store
from schedule.views import SharedCalendarIn, SharedCalendarOut

router = APIRouter(prefix="/api/v1/calendars", tags=["calendars"])

CalendarName = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="e.g. china_business")
]


@router.get("", response_model=list[SharedCalendarOut], responses=responses(401))
def list_calendars(user: CurrentUser, session: SessionDep) -> list[SharedCalendarOut]:
    """The shared business calendars in force, each with its version, every holiday and make-up working
    day it declares, and a warning when its holidays run out within 60 days."""
    with svc.refusals(user):
        return shared_store.listing(session, datetime.now(UTC).date())


@router.get("/{name}", response_model=SharedCalendarOut, responses=responses(401, 404))
def get_calendar(name: CalendarName, user: CurrentUser, session: SessionDep) -> SharedCalendarOut:
    """One shared calendar as it stands."""
    return svc.read(session, user, lambda s: shared_store.describe(s, name, datetime.now(UTC).date()))


@router.put("/{name}", response_model=SharedCalendarOut, responses=responses(401, 403, 404, 422))
async def put_calendar(
    name: CalendarName, body: SharedCalendarIn, user: AdminUser, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """A new version of a shared calendar (administrators): hours, the holiday source, local holidays
    and make-up working days. Records started from now on run on it; running records keep the version
    they started with. Malformed content is refused field by field and writes nothing."""
    return await svc.write(
        engine, user, idempotency, body, lambda s: shared_store.update(s, name, body, actor=user.username)
    )
