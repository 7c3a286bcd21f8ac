"""Which change-schedule check firing a transition needs (the transition's `schedule_check`), with the
planned window, CIs and implementer as they will be once the values sent are applied. Pure: the workflow
asks the read model (workflows/schedule_checks.py) and refuses or notes what it answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from definitions.guards import evaluate
from definitions.model import Guard, ScheduleCheck
from workflows.contracts import Actor, Contract
from workflows.engine import moves
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind


class ScheduleCheckInput(Contract):
    record_id: str
    number: str
    planned_start: datetime
    planned_end: datetime
    cis: list[int] = []
    implementer: str | None = None
    ecab_approved: bool = False
    maintenance_window: bool = False
    block_conflicts: bool = False
    language: str = "en"


class ScheduleFinding(Contract):
    rule: str  # freeze | outside_maintenance | ci_overlap | implementer
    message_en: str
    message_zh: str
    other: str | None = None  # the other change's number, for a conflict
    window_id: int | None = None


class ScheduleCheckResult(Contract):
    violations: list[ScheduleFinding] = []  # always refuse: freezes, missing maintenance windows
    conflicts: list[ScheduleFinding] = []  # refuse when the definition blocks on them, else noted


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _cis(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return sorted({int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.isdigit())})


def wanted(
    ctx: RecordContext, actor: Actor, trigger: str, supplied: Mapping[str, Any], now: datetime
) -> ScheduleCheckInput | None:
    """The check the transition `trigger` would take needs, or None (no check, no planned window yet,
    or a move the rules refuse anyway: the handler refuses it with the rule's own words)."""
    if not any(t.schedule_check for t in ctx.definition.transitions):
        return None
    try:
        move = moves.choose(ctx, actor, trigger, supplied, None, now)
    except Refusal:
        return None
    spec: ScheduleCheck | None = move.transition.schedule_check
    if spec is None:
        return None
    return _input(ctx, spec, {**ctx.record.fields, **move.values}, actor.language)


def wanted_for_edit(ctx: RecordContext, actor: Actor, clean: Mapping[str, Any]) -> ScheduleCheckInput | None:
    """The check an edit needs (the definition's `reschedule_check`): when the record is in one of its
    states and the edit changes the planned window, the CIs or the implementer."""
    spec = ctx.definition.reschedule_check
    if spec is None or ctx.record.state not in spec.states:
        return None
    watched = {spec.start, spec.end, spec.cis, spec.implementer} - {None}
    if not any(name in watched and ctx.record.fields.get(name) != value for name, value in clean.items()):
        return None
    return _input(ctx, spec, {**ctx.record.fields, **clean}, actor.language)


def _input(
    ctx: RecordContext, spec: ScheduleCheck, fields: Mapping[str, Any], language: str
) -> ScheduleCheckInput | None:
    start, end = _when(fields.get(spec.start)), _when(fields.get(spec.end))
    if start is None or end is None:
        return None
    approved = False
    if spec.ecab_approved is not None:
        approved = evaluate(Guard.model_validate(spec.ecab_approved), fields, ctx.definition.calendars)
    implementer = fields.get(spec.implementer) if spec.implementer else None
    return ScheduleCheckInput(
        record_id=ctx.record.record_id,
        number=ctx.record.number,
        planned_start=start,
        planned_end=end,
        cis=_cis(fields.get(spec.cis)) if spec.cis else [],
        implementer=implementer if isinstance(implementer, str) and implementer else None,
        ecab_approved=approved,
        maintenance_window=spec.maintenance_window,
        block_conflicts=spec.conflicts == "block",
        language=language,
    )


def refusal(result: ScheduleCheckResult, block_conflicts: bool, lang: str) -> Refusal | None:
    """The refusal the findings make (every violation; the conflicts too when the definition blocks on
    them), each finding in the actor's language; None when the change may go ahead."""
    refusing = result.violations + (result.conflicts if block_conflicts else [])
    if not refusing:
        return None
    zh = lang.startswith("zh")
    said = [f.message_zh if zh else f.message_en for f in refusing]
    head = "变更日程不允许：" if zh else "the change schedule does not allow it: "
    # No per-field errors: the findings are about the window as a whole, and each names its window.
    return Refusal(RefusalKind.ScheduleConflict, head + ("；" if zh else "; ").join(said))


def noted(result: ScheduleCheckResult) -> dict[str, Any] | None:
    """What the audit trail keeps of conflicts that only warn (both languages: readers choose)."""
    if not result.conflicts:
        return None
    return {"conflicts": [f.model_dump(exclude_none=True) for f in result.conflicts]}
