"""The change calendar page: the forward schedule of changes and releases by month, week or as a list,
with the freeze (封网) and maintenance windows, each change's conflicts, filters by CI and group, the
warning of a calendar running out of holidays, and — for change managers — defining and cancelling
windows. Days are those of the organisation's time zone (setting `timezone`)."""

from __future__ import annotations

import calendar as calmod
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.auth import Principal
from api.deps import SessionDep
from api.problems import ProblemError
from api.services import schedule as forward_svc
from api.services import schedule_feeds
from api.services.record_schedule import record_schedule
from api.web import forms, i18n
from api.web.common import ChangeManagerPost, PageRoute, PostUser, User, engine_of, render
from api.web.records import state_label
from cmdb.errors import CmdbError
from core.db import session_scope
from core.settings import Settings
from definitions.model import Definition
from schedule import calendars, windows
from schedule.views import FeedIn, ScheduledChange, WindowIn, WindowOut

router = APIRouter(route_class=PageRoute, include_in_schema=False)
View = Literal["month", "week", "list"]
MANAGERS = ("change_manager", "admin")


@dataclass
class Day:
    day: date
    in_range: bool
    today: bool
    changes: list[ScheduledChange] = field(default_factory=list)
    windows: list[WindowOut] = field(default_factory=list)


def _tz(request: Request) -> ZoneInfo:
    settings: Settings = request.app.state.settings
    return ZoneInfo(settings.timezone)


def span(view: View, anchor: date) -> tuple[date, date, date, date]:
    """(first shown day, last shown day, previous anchor, next anchor) of a view."""
    if view == "month":
        first = anchor.replace(day=1)
        last = first.replace(day=calmod.monthrange(first.year, first.month)[1])
        shown_first = first - timedelta(days=first.weekday())
        shown_last = last + timedelta(days=6 - last.weekday())
        return shown_first, shown_last, first - timedelta(days=1), last + timedelta(days=1)
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6), monday - timedelta(days=7), monday + timedelta(days=7)
    return anchor, anchor + timedelta(days=30), anchor - timedelta(days=31), anchor + timedelta(days=31)


def _days_of(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def grid(
    view: View,
    anchor: date,
    today: date,
    tz: ZoneInfo,
    changes: list[ScheduledChange],
    shown: list[WindowOut],
) -> list[Day]:
    first, last, _, _ = span(view, anchor)
    days = {
        first + timedelta(days=i): Day(first + timedelta(days=i), True, False)
        for i in range((last - first).days + 1)
    }
    for cell in days.values():
        cell.today = cell.day == today
        cell.in_range = view != "month" or cell.day.month == anchor.month
    for c in changes:
        for d in _days_of(c.planned_start, c.planned_end, tz):
            if d in days:
                days[d].changes.append(c)
    for w in shown:
        for d in _days_of(w.starts_at, w.ends_at, tz):
            if d in days:
                days[d].windows.append(w)
    return list(days.values())


@router.get("/ui/schedule")
def schedule_page(
    request: Request,
    user: User,
    session: SessionDep,
    view: View = "month",
    day: Annotated[date | None, Query()] = None,
    ci: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    group: Annotated[str | None, Query(max_length=64)] = None,
    saved: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return page(request, user, session, view=view, day=day, ci=ci, group=group, saved=saved)


def page(
    request: Request,
    user: Principal,
    session: Session,
    *,
    view: View = "month",
    day: date | None = None,
    ci: int | None = None,
    group: str | None = None,
    saved: str | None = None,
    error: ProblemError | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
    new_feed: str | None = None,
) -> Response:
    tz = _tz(request)
    lang = i18n.language(request, user.language)
    today = datetime.now(tz).date()
    anchor = day or today
    first, last, prev_anchor, next_anchor = span(view, anchor)
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    try:
        out = forward_svc.forward(session, user, start, end, ci=ci, group=group or None)
    except CmdbError as exc:
        raise ProblemError(exc.status, exc.zh if lang == "zh" else exc.en, kind=exc.kind) from None
    definitions: dict[str, Definition | None] = {}
    states = {}
    for c in out.changes:
        if c.process not in definitions:
            definitions[c.process] = forms.definition(session, c.process)
        states[c.number] = state_label(definitions[c.process], c.state, lang)
    return render(
        request,
        "schedule.html",
        user,
        status_code=status,
        view=view,
        anchor=anchor,
        today=today,
        days=grid(view, anchor, today, tz, out.changes, out.windows),
        weekdays=[i18n.translate(lang, f"schedule.weekday{i}") for i in range(7)],
        title_of=lambda w: w.title_zh if lang == "zh" else w.title_en,
        states=states,
        schedule=out,
        prev_anchor=prev_anchor,
        next_anchor=next_anchor,
        ci=ci,
        group=group or "",
        tzname=str(tz),
        warnings=calendars.warnings(session, today),
        manager=user.has_role(*MANAGERS),
        saved=saved,
        error=error,
        form=form or {},
        feeds=[f for f in schedule_feeds.mine(session, user) if f.revoked_at is None],
        new_feed=new_feed,
        local=lambda v: v.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        hour=lambda v: v.astimezone(tz).strftime("%H:%M"),
    )


def _moment(value: str, tz: ZoneInfo) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


@router.post("/ui/schedule/windows")
def define_window(
    request: Request,
    user: ChangeManagerPost,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=16)] = "freeze",
    title_zh: Annotated[str, Form(max_length=200)] = "",
    title_en: Annotated[str, Form(max_length=200)] = "",
    starts_at: Annotated[str, Form(max_length=32)] = "",
    ends_at: Annotated[str, Form(max_length=32)] = "",
    scope: Annotated[str, Form(max_length=16)] = "all",
    scope_values: Annotated[str, Form(max_length=2000)] = "",
    severity: Annotated[str, Form(max_length=8)] = "block",
) -> Response:
    """A change manager defines a window from the page (the same checks as the API's)."""
    lang = i18n.language(request, user.language)
    tz = _tz(request)
    entered = {
        "kind": kind,
        "title_zh": title_zh,
        "title_en": title_en,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "scope": scope,
        "scope_values": scope_values,
        "severity": severity,
    }
    if not user.has_role(*MANAGERS):
        raise ProblemError(403, i18n.translate(lang, "schedule.managers_only"), kind="NotAllowed")
    values: list[int | str] = [v.strip() for v in scope_values.replace("，", ",").split(",") if v.strip()]
    if scope in ("cis", "services"):
        values = [int(v) if str(v).isdigit() else v for v in values]
    start, end = _moment(starts_at, tz), _moment(ends_at, tz)
    try:
        data = WindowIn.model_validate(
            {
                "kind": kind,
                "title_zh": title_zh.strip(),
                "title_en": title_en.strip(),
                "starts_at": start,
                "ends_at": end,
                "scope": scope,
                "scope_values": values,
                "severity": severity,
            }
        )
        with session_scope(engine_of(request)) as write:
            created = windows.create(write, data, actor=user.username)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        words = "、".join if lang == "zh" else ", ".join
        named = words(i18n.translate(lang, f"schedule.field.{f}") for f in fields)
        problem = ProblemError(
            422, i18n.translate(lang, "schedule.invalid", fields=named), kind="InvalidWindow"
        )
        return page(request, user, session, view="list", error=problem, status=422, form=entered)
    except CmdbError as exc:
        errors = [
            {
                "path": i18n.translate(lang, f"schedule.field.{i.path.split('[')[0]}"),
                "message": i.message(lang),
            }
            for i in exc.issues
        ]
        problem = ProblemError(exc.status, exc.zh if lang == "zh" else exc.en, errors=errors, kind=exc.kind)
        return page(request, user, session, view="list", error=problem, status=exc.status, form=entered)
    day = created.starts_at.astimezone(tz).date().isoformat()
    return RedirectResponse(f"/ui/schedule?view=month&day={day}&saved=window", status_code=303)


@router.post("/ui/schedule/windows/{window_id}/cancel")
def cancel_window(
    request: Request, user: ChangeManagerPost, window_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> Response:
    lang = i18n.language(request, user.language)
    if not user.has_role(*MANAGERS):
        raise ProblemError(403, i18n.translate(lang, "schedule.managers_only"), kind="NotAllowed")
    try:
        with session_scope(engine_of(request)) as write:
            windows.cancel(write, window_id, actor=user.username)
    except CmdbError as exc:
        raise ProblemError(exc.status, exc.zh if lang == "zh" else exc.en, kind=exc.kind) from None
    return RedirectResponse("/ui/schedule?view=list&saved=cancelled", status_code=303)


@router.get("/ui/records/{ref}/schedule")
def record_schedule_part(
    request: Request,
    ref: Annotated[str, Path(min_length=1, max_length=100)],
    user: User,
    session: SessionDep,
) -> Response:
    """The record page's change-schedule panel (loaded by htmx): freezes and conflicts now."""
    lang = i18n.language(request, user.language)
    try:
        result = record_schedule(session, user, ref, lang)
    except CmdbError as exc:
        raise ProblemError(exc.status, exc.zh if lang == "zh" else exc.en, kind=exc.kind) from None
    day = result.planned_start.astimezone(_tz(request)).date() if result.planned_start else None
    return render(request, "partials/record_schedule.html", user, result=result, day=day)


@router.post("/ui/schedule/feeds")
def subscribe(
    request: Request,
    user: PostUser,
    session: SessionDep,
    kind: Annotated[Literal["user", "group", "ci"], Form()] = "user",
    target: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A calendar feed for a calendar program: its address is shown this once (only a hash is kept)."""
    lang = i18n.language(request, user.language)
    body = FeedIn(kind=kind, target=user.username if kind == "user" else (target.strip() or "-"))
    try:
        with session_scope(engine_of(request)) as write:
            feed = schedule_feeds.create(write, user, body)
    except ProblemError as problem:
        shown = ProblemError(problem.status, (problem.zh if lang == "zh" and problem.zh else problem.detail))
        return page(request, user, session, view="list", error=shown, status=problem.status)
    assert feed.path is not None
    url = str(request.base_url).rstrip("/") + feed.path
    return page(request, user, session, view="list", saved="feed", new_feed=url)


@router.post("/ui/schedule/feeds/{feed_id}/revoke")
def revoke_feed(
    request: Request, user: PostUser, feed_id: Annotated[str, Path(min_length=1, max_length=32)]
) -> Response:
    lang = i18n.language(request, user.language)
    try:
        with session_scope(engine_of(request)) as write:
            schedule_feeds.revoke(write, user, feed_id)
    except ProblemError as problem:
        raise ProblemError(
            problem.status, problem.zh if lang == "zh" and problem.zh else problem.detail
        ) from None
    return RedirectResponse("/ui/schedule?view=list&saved=revoked", status_code=303)
