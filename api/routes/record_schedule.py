"""A record's place in the change schedule (`GET /api/v1/processes/{record}/schedule`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.deps import CurrentUser, SessionDep
from api.problems import caller_language, responses
from api.services import cmdb as svc
from api.services.record_schedule import record_schedule
from schedule.views import RecordScheduleOut

router = APIRouter(prefix="/api/v1/processes", tags=["schedule"])

RecordRef = Annotated[
    str, Path(min_length=1, max_length=100, description="Record id or number (CHG0000042).")
]


@router.get("/{record}/schedule", response_model=RecordScheduleOut, responses=responses(401, 404))
def get_record_schedule(
    record: RecordRef, request: Request, user: CurrentUser, session: SessionDep
) -> RecordScheduleOut:
    """The record's planned window now: the freezes it falls in and its conflicts with the other planned
    changes you may see (the same or related CIs, the implementer booked twice), in your language —
    what the workflow checks when the change is submitted or started, for the CAB and the record page."""
    lang = caller_language(request)
    return svc.read(session, user, lambda s: record_schedule(s, user, record, lang))
