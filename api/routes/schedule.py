"""The change schedule: freeze (封网) and maintenance windows. Change managers (and admins) define and
cancel them; every signed-in user reads them and checks a planned change against them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import ChangeManager, CurrentUser, EngineDep, Idempotent, SessionDep
from api.problems import ProblemError, responses
from api.services import cmdb as svc
from api.services import schedule as forward_svc
from schedule import windows
from schedule.views import CheckIn, CheckOut, ScheduleOut, WindowIn, WindowOut

router = APIRouter(prefix="/api/v1/schedule", tags=["schedule"])

WindowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A window's id.")]
MAX_RANGE = timedelta(days=400)


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    start = start or datetime.now(UTC)
    end = end or start + timedelta(days=31)
    if start.tzinfo is None or end.tzinfo is None:
        raise ProblemError(422, "from and to need a time zone", zh="from 和 to 需要带时区", kind="BadRange")
    if end <= start or end - start > MAX_RANGE:
        raise ProblemError(
            422,
            f"to must be after from, at most {MAX_RANGE.days} days later",
            zh=f"to 必须晚于 from，且最多晚 {MAX_RANGE.days} 天",
            kind="BadRange",
        )
    return start, end


@router.get("/windows", response_model=list[WindowOut], responses=responses(401, 422))
def list_windows(
    user: CurrentUser,
    session: SessionDep,
    start: Annotated[datetime | None, Query(alias="from", description="Default: now.")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Default: 31 days after from.")] = None,
    kind: Annotated[Literal["freeze", "maintenance"] | None, Query()] = None,
    ci: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only windows reaching this CI.")] = None,
) -> list[WindowOut]:
    """The windows in force that overlap [from, to), earliest first."""
    start, end = _range(start, end)
    with svc.refusals(user):
        return windows.listing(session, start, end, kind=kind, ci=ci)


@router.get("/windows/{window_id}", response_model=WindowOut, responses=responses(401, 404))
def get_window(window_id: WindowId, user: CurrentUser, session: SessionDep) -> WindowOut:
    """One window, cancelled or not."""
    return svc.read(session, user, lambda s: windows.out(windows.load(s, window_id)))


@router.post("/windows", status_code=201, response_model=WindowOut, responses=responses(401, 403, 422))
async def create_window(
    body: WindowIn, user: ChangeManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Define a freeze or maintenance window (change managers)."""
    return await svc.write(
        engine, user, idempotency, body, lambda s: windows.create(s, body, actor=user.username), status=201
    )


@router.post("/windows/{window_id}/cancel", response_model=WindowOut, responses=responses(401, 403, 404, 409))
async def cancel_window(
    window_id: WindowId, user: ChangeManager, engine: EngineDep, idempotency: Idempotent
) -> Response:
    """Cancel a window (kept, with who cancelled it and when)."""
    return await svc.write(
        engine, user, idempotency, None, lambda s: windows.cancel(s, window_id, actor=user.username)
    )


@router.post("/windows/check", response_model=CheckOut, responses=responses(401, 422))
def check_window(body: CheckIn, user: CurrentUser, session: SessionDep) -> CheckOut:
    """Whether a change planned for [planned_start, planned_end) on these CIs respects the freeze and
    maintenance windows; each violation names its window in the caller's language."""
    return svc.read(session, user, lambda s: windows.check(s, body, user.language))


@router.get("", response_model=ScheduleOut, responses=responses(401, 422))
def forward_schedule(
    user: CurrentUser,
    session: SessionDep,
    start: Annotated[datetime | None, Query(alias="from", description="Default: now.")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Default: 31 days after from.")] = None,
    ci: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only changes on this CI.")] = None,
    group: Annotated[str | None, Query(max_length=64, description="Only this assignment group.")] = None,
) -> ScheduleOut:
    """The forward schedule: the records you may see with a planned window in [from, to), each with its
    conflicts (the same or related CIs, the implementer booked twice, a freeze), and the windows."""
    start, end = _range(start, end)
    with svc.refusals(user):
        return forward_svc.forward(session, user, start, end, ci=ci, group=group)
