"""Schedules of records in the read model: checking a new one, reading, changing, and their runs.

Every check happens before anything is written (the Temporal Schedule is created only after), so bad
input leaves nothing behind: a rule that is malformed or never fires, an unknown calendar or owner,
fields the definition's rules would refuse at start.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.tables import UserRow
from definitions.loader import PinnedDefinition
from definitions.recurrence import Recurrence, RecurrenceError, next_occurrences, parse_recurrence
from recurring import occurrence_values
from recurring.errors import ScheduleError
from recurring.occurrences import calendar_for
from recurring.tables import RecordScheduleRow, ScheduleRunRow
from recurring.views import ScheduleIn, ScheduleOut, SchedulePatch, ScheduleRunOut
from workflows.contracts import Actor, StartProcessInput
from workflows.engine import ProcessEngine, Refusal
from workflows.scheduled_run import temporal_schedule_id

# `system:schedule` alone is the change schedule's check (workflows/process.py); a scheduled record's
# start names its schedule: `system:schedule:<id>` (the pages: 系统（计划任务）/ System (scheduled record)).
ACTOR_PREFIX = "system:schedule:"
NEXT_RUNS = 3


def schedule_actor(schedule_id: str, language: str = "en") -> Actor:
    """Who starts a scheduled record (audited as such; the pages show it as 系统（计划任务）)."""
    return Actor(username=f"{ACTOR_PREFIX}{schedule_id}", roles=["system"], language=language)


def parse_rule(data: dict[str, Any]) -> Recurrence:
    try:
        rule = parse_recurrence(data)
    except RecurrenceError as exc:
        raise ScheduleError(f"rule.{exc.path}", exc.en, exc.zh) from None
    if rule.at.microsecond or rule.at.tzinfo is not None:
        # Temporal fires on whole seconds of local time: a fraction or an offset would never match.
        raise ScheduleError(
            "rule.at",
            "a local time in whole seconds (HH:MM or HH:MM:SS)",
            "须为当地时间，精确到秒（HH:MM 或 HH:MM:SS）",
        )
    return rule


def _check_owner(session: Session, owner: str) -> None:
    user = session.get(UserRow, owner)
    if user is None or not user.active:
        raise ScheduleError("owner", f"no active user {owner!r}", f"没有在用的用户 {owner!r}")


def check_fields(
    pinned: PinnedDefinition, title: str, fields: dict[str, Any], now: datetime, lang: str
) -> None:
    """The engine's own start check (required fields, values, options), as the schedule will start it."""
    inp = StartProcessInput(
        record_id="PRECHECK",
        number="PRECHECK",
        definition=pinned,
        actor=schedule_actor("precheck", lang),
        title=title,
        fields=fields,
    )
    try:
        ProcessEngine.create(inp, now)
    except Refusal as refusal:
        errors = refusal.errors or [{"path": "fields", "message": refusal.message}]
        first = errors[0]
        path = first.get("path") or "fields"
        path = path if path.startswith("fields") else f"fields.{path}"
        # The engine words its refusal in the actor's language already.
        raise ScheduleError(path, refusal.message, refusal.message) from None


def prepare(
    session: Session, body: ScheduleIn, *, pinned: PinnedDefinition, caller: str, now: datetime, lang: str
) -> RecordScheduleRow:
    """A checked new schedule, not yet stored; ScheduleError names the first mistake."""
    rule = parse_rule(body.rule)
    cal = calendar_for(session, body.calendar, body.timezone)
    try:
        next_occurrences(rule, cal, now)
    except RecurrenceError as exc:
        raise ScheduleError(f"rule.{exc.path}", exc.en, exc.zh) from None
    owner = body.owner or caller
    _check_owner(session, owner)
    occurrence_values.check(body.fields)
    check_fields(pinned, body.title, occurrence_values.resolve(body.fields, now, cal), now, lang)
    return RecordScheduleRow(
        id=uuid.uuid4().hex[:16],
        name=body.name,
        definition=pinned.definition.key,
        title=body.title,
        fields=body.fields,
        rule=rule.model_dump(mode="json", exclude_none=True),
        calendar=body.calendar,
        timezone=cal.timezone,
        catch_up=body.catch_up,
        owner=owner,
        paused=body.paused,
        created_by=caller,
        created_at=now,
        updated_at=now,
    )


def get(session: Session, schedule_id: str, *, deleted: bool = False) -> RecordScheduleRow:
    row = session.get(RecordScheduleRow, schedule_id)
    if row is None or (row.deleted_at is not None and not deleted):
        raise ScheduleError(
            "id", f"no schedule {schedule_id!r}", f"没有计划 {schedule_id!r}", kind="not_found"
        )
    return row


def listing(session: Session, definition: str | None = None) -> list[RecordScheduleRow]:
    query = select(RecordScheduleRow).where(col(RecordScheduleRow.deleted_at).is_(None))
    if definition:
        query = query.where(RecordScheduleRow.definition == definition)
    return list(session.exec(query.order_by(col(RecordScheduleRow.created_at))))


def apply_patch(
    session: Session,
    row: RecordScheduleRow,
    patch: SchedulePatch,
    *,
    pinned: PinnedDefinition,
    now: datetime,
    lang: str,
) -> RecordScheduleRow:
    if patch.owner is not None:
        _check_owner(session, patch.owner)
    title = patch.title if patch.title is not None else row.title
    fields = patch.fields if patch.fields is not None else row.fields
    occurrence_values.check(fields)
    cal = calendar_for(session, row.calendar, row.timezone)
    check_fields(pinned, title, occurrence_values.resolve(fields, now, cal), now, lang)
    for name in ("name", "title", "fields", "catch_up", "owner"):
        value = getattr(patch, name)
        if value is not None:
            setattr(row, name, value)
    row.updated_at = now
    session.add(row)
    return row


def out(session: Session, row: RecordScheduleRow, now: datetime) -> ScheduleOut:
    upcoming: list[datetime] = []
    if not row.paused and row.deleted_at is None:
        try:
            cal = calendar_for(session, row.calendar, row.timezone)
            upcoming = next_occurrences(parse_recurrence(row.rule), cal, now, count=NEXT_RUNS)
        except (RecurrenceError, ScheduleError):
            upcoming = []  # the shared calendar changed since; the runs will say why
    return ScheduleOut(
        id=row.id,
        name=row.name,
        definition=row.definition,
        title=row.title,
        fields=row.fields,
        rule=row.rule,
        calendar=row.calendar,
        timezone=row.timezone,
        catch_up="skip" if row.catch_up == "skip" else "once",
        owner=row.owner,
        paused=row.paused,
        deleted=row.deleted_at is not None,
        created_by=row.created_by,
        created_at=row.created_at,
        next_runs=upcoming,
        temporal_schedule_id=temporal_schedule_id(row.id),
    )


def runs(session: Session, schedule_id: str, lang: str, limit: int = 100) -> list[ScheduleRunOut]:
    get(session, schedule_id, deleted=True)
    rows = session.exec(
        select(ScheduleRunRow)
        .where(ScheduleRunRow.schedule_id == schedule_id)
        .order_by(col(ScheduleRunRow.scheduled_at).desc())
        .limit(limit)
    )
    return [
        ScheduleRunOut(
            scheduled_at=r.scheduled_at,
            ran_at=r.ran_at,
            status=r.status,
            reason=r.reason,
            message=(r.message_zh if lang.startswith("zh") else r.message_en),
            record_id=r.record_id,
            number=r.number,
        )
        for r in rows
    ]
