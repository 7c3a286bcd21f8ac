"""The schedules page (issue 20, docs/schedules.md): a process owner's schedules of records with their
rhythm in words, next occurrence, owner and catch-up policy; a form for a new one; pause, resume and
delete; one schedule's history of runs. Everything goes through the same service as /api/v1/schedules.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Principal
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalClientDep
from api.problems import ProblemError
from api.services import definitions as defs
from api.services import schedules as svc
from api.web import i18n
from api.web.common import OwnerPage, OwnerPost, PageRoute, render
from definitions import shared_calendars
from recurring.views import ScheduleIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/ui/record-schedules"
ScheduleId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$")]
KINDS = ("workdays", "month_first_workday", "quarter_first_workday", "every_days", "yearly")


def rule_words(rule: dict[str, Any], lang: str, calendar: str | None = "") -> str:
    """A rule as people say it: 每个工作日 09:00 / Every working day at 09:00 (every day at 09:00 when
    no business calendar makes some days non-working)."""
    at = str(rule.get("at", "09:00:00"))
    at = at[:5] if at.endswith(":00") and len(at) == 8 else at
    kind = "daily" if rule.get("kind") == "workdays" and calendar is None else rule.get("kind")
    return i18n.translate(
        lang,
        f"schedules.rule.{kind}",
        at=at,
        every=rule.get("every", ""),
        start=rule.get("start", ""),
        month=rule.get("month", ""),
        day=rule.get("day", ""),
    )


def _calendars(lang: str) -> list[tuple[str, str]]:
    return [
        (name, i18n.pick(cal.label, lang, name)) for name, cal in sorted(shared_calendars.builtin().items())
    ]


def _processes(session: Any, lang: str) -> list[tuple[str, str]]:
    return [
        (d.key, i18n.pick(d.title, lang, d.key))
        for d in defs.list_definitions(session)
        if d.published_version is not None
    ]


def processes_by_key(session: Any, lang: str) -> dict[str, str]:
    """Each published process's title in the reader's language, by its key."""
    return dict(_processes(session, lang))


def _message(problem: ProblemError, lang: str) -> str:
    return problem.zh if lang.startswith("zh") and problem.zh else problem.detail


def _page(
    request: Request,
    user: Principal,
    session: Any,
    engine: Any,
    *,
    form: dict[str, Any] | None = None,
    problem: ProblemError | None = None,
) -> Response:
    lang = i18n.language(request, user.language)
    return render(
        request,
        "record_schedules.html",
        user,
        schedules=svc.listing(engine, None),
        processes=processes_by_key(session, lang),
        calendars=_calendars(lang),
        kinds=KINDS,
        rule_words=lambda s: rule_words(s.rule, lang, s.calendar),
        form=form or {},
        problem=problem,
        message=_message(problem, lang) if problem else "",
        status_code=problem.status if problem else 200,
    )


@router.get(BASE)
def schedules_page(request: Request, user: OwnerPage, session: SessionDep, engine: EngineDep) -> Response:
    return _page(request, user, session, engine)


def _body(form: dict[str, Any], user: Principal) -> ScheduleIn:
    rule: dict[str, Any] = {"kind": form.get("kind", ""), "at": form.get("at") or "09:00"}
    for name in ("every", "start", "month", "day"):
        if form.get(name):
            rule[name] = form[name]
    raw_fields = str(form.get("fields", "")).strip() or "{}"
    try:
        fields = json.loads(raw_fields)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise ProblemError(
            422,
            'The start fields must be a JSON object, e.g. {"impact": "2"}.',
            zh='开始字段须为 JSON 对象，例如 {"impact": "2"}。',
            kind="InvalidSchedule",
            errors=[{"path": "fields", "message": "invalid"}],
        )
    calendar = str(form.get("calendar", ""))
    try:
        return ScheduleIn(
            name=str(form.get("name", "")).strip(),
            definition=str(form.get("definition", "")),
            title=str(form.get("title", "")).strip(),
            fields=fields,
            rule=rule,
            calendar=calendar or None,
            timezone=str(form.get("timezone") or "Asia/Shanghai"),
            catch_up="skip" if form.get("catch_up") == "skip" else "once",
            owner=str(form.get("owner", "")).strip() or user.username,
        )
    except ValidationError as exc:  # an empty name or title
        raise ProblemError(
            422,
            "Name, process and title are required.",
            zh="名称、流程和记录标题为必填项。",
            kind="InvalidSchedule",
            errors=[{"path": ".".join(map(str, e["loc"])), "message": "required"} for e in exc.errors()],
        ) from None


@router.post(BASE)
async def create_schedule(
    request: Request,
    user: OwnerPost,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        body = _body(form, user)
        with svc.refusals():
            made = await svc.create(client, engine, settings.task_queue, user, body)
    except ProblemError as problem:
        return _page(request, user, session, engine, form=form, problem=problem)
    return RedirectResponse(f"{BASE}/{made.id}", status_code=303)


@router.get(BASE + "/{schedule_id}")
def schedule_page(request: Request, schedule_id: ScheduleId, user: OwnerPage, engine: EngineDep) -> Response:
    lang = i18n.language(request, user.language)
    with svc.refusals():
        schedule = svc.read(engine, schedule_id)
        runs = svc.runs(engine, user, schedule_id, 200)
    return render(
        request,
        "record_schedule.html",
        user,
        s=schedule,
        runs=runs,
        rule_text=rule_words(schedule.rule, lang, schedule.calendar),
        calendars=dict(_calendars(lang)),
    )


async def _act(client: Any, engine: Any, user: Principal, schedule_id: str, action: str) -> Response:
    with svc.refusals():
        if action == "delete":
            await svc.delete(client, engine, schedule_id)
            return RedirectResponse(BASE, status_code=303)
        await svc.set_paused(client, engine, user, schedule_id, action == "pause")
    return RedirectResponse(f"{BASE}/{schedule_id}", status_code=303)


@router.post(BASE + "/{schedule_id}/pause")
async def pause(
    schedule_id: ScheduleId, user: OwnerPost, engine: EngineDep, client: TemporalClientDep
) -> Response:
    return await _act(client, engine, user, schedule_id, "pause")


@router.post(BASE + "/{schedule_id}/resume")
async def resume(
    schedule_id: ScheduleId, user: OwnerPost, engine: EngineDep, client: TemporalClientDep
) -> Response:
    return await _act(client, engine, user, schedule_id, "resume")


@router.post(BASE + "/{schedule_id}/delete")
async def delete(
    schedule_id: ScheduleId, user: OwnerPost, engine: EngineDep, client: TemporalClientDep
) -> Response:
    return await _act(client, engine, user, schedule_id, "delete")
