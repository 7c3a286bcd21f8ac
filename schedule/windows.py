"""Freeze and maintenance windows: define, list, cancel, and check a change's planned window against
them. The refusal names the window in zh and en, so a change manager knows which freeze to look up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from cmdb import models
from cmdb.errors import CmdbError, invalid, not_found
from cmdb.impact import MAX_DEPTH, walk
from cmdb.issues import Issue
from cmdb.tables import CiRow
from schedule.tables import WindowRow
from schedule.views import CheckIn, CheckOut, ViolationOut, WindowIn, WindowOut

MAX_SPAN_DAYS = 366


def out(row: WindowRow) -> WindowOut:
    return WindowOut.model_validate(row, from_attributes=True)


def _validate(session: Session, data: WindowIn) -> None:
    issues: list[Issue] = []
    if data.ends_at <= data.starts_at:
        issues.append(Issue("ends_at", "must be after starts_at", "必须晚于开始时间"))
    elif (data.ends_at - data.starts_at).days > MAX_SPAN_DAYS:
        issues.append(
            Issue("ends_at", f"a window is at most {MAX_SPAN_DAYS} days", f"窗口最长 {MAX_SPAN_DAYS} 天")
        )
    if data.scope == "all" and data.scope_values:
        issues.append(Issue("scope_values", "must be empty for scope all", "范围为全部时必须为空"))
    if data.scope != "all" and not data.scope_values:
        issues.append(Issue("scope_values", "name at least one", "至少填写一项"))
    if data.kind == "maintenance" and data.severity != "block":
        issues.append(Issue("severity", "only freeze windows have a severity", "只有封网窗口有严重程度"))
    if data.scope in ("cis", "services"):
        for i, value in enumerate(data.scope_values):
            if not isinstance(value, int) or session.get(CiRow, value) is None:
                issues.append(Issue(f"scope_values[{i}]", f"no CI {value}", f"没有配置项 {value}"))
    elif data.scope == "ci_classes":
        known = {c.name for c in models.current(session)[1].classes}
        for i, value in enumerate(data.scope_values):
            if value not in known:
                issues.append(Issue(f"scope_values[{i}]", f"no CI class {value}", f"没有配置项类别 {value}"))
    if issues:
        n = len(issues)
        raise invalid(
            issues,
            en=f"the window was not saved: {n} problem(s), each listed with its field",
            zh=f"窗口未保存：共 {n} 处问题，逐项列出了字段",
        )


def _scopes_meet(window: WindowRow, data: WindowIn) -> bool:
    if "all" in (window.scope, data.scope):
        return True
    return window.scope == data.scope and bool(set(window.scope_values) & set(data.scope_values))


def _contradiction(session: Session, data: WindowIn) -> None:
    """Two overlapping freezes on the same scope with different severities would make the answer depend
    on which one is read first: refused, naming the freeze already there."""
    if data.kind != "freeze":
        return
    for other in in_force(session, data.starts_at, data.ends_at, kind="freeze"):
        if other.severity != data.severity and _scopes_meet(other, data):
            raise CmdbError(
                409,
                "ContradictoryFreeze",
                f"the freeze window “{other.title_en}” ({_span(other)}) overlaps it with severity "
                f"{other.severity}",
                f"封网窗口“{other.title_zh}”（{_span(other)}）与其重叠且严重程度为 {other.severity}",
                [Issue("severity", "contradicts an overlapping freeze", "与重叠的封网窗口矛盾")],
            )


def create(session: Session, data: WindowIn, *, actor: str) -> WindowOut:
    _validate(session, data)
    _contradiction(session, data)
    row = WindowRow(**data.model_dump(), created_by=actor, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return out(row)


def load(session: Session, window_id: int) -> WindowRow:
    row = session.get(WindowRow, window_id)
    if row is None:
        raise not_found(f"window {window_id}", f"窗口 {window_id}")
    return row


def cancel(session: Session, window_id: int, *, actor: str) -> WindowOut:
    row = load(session, window_id)
    if row.cancelled_at is not None:
        raise CmdbError(
            409, "AlreadyCancelled", f"window {window_id} is cancelled", f"窗口 {window_id} 已取消"
        )
    row.cancelled_by, row.cancelled_at = actor, datetime.now(UTC)
    session.add(row)
    session.flush()
    return out(row)


def in_force(session: Session, start: datetime, end: datetime, *, kind: str | None = None) -> list[WindowRow]:
    """Windows not cancelled that overlap [start, end)."""
    query = select(WindowRow).where(
        col(WindowRow.cancelled_at).is_(None), WindowRow.starts_at < end, WindowRow.ends_at > start
    )
    if kind:
        query = query.where(WindowRow.kind == kind)
    return list(session.exec(query.order_by(col(WindowRow.starts_at), col(WindowRow.id))))


def _covers(session: Session, window: WindowRow, ci_id: int | None) -> bool:
    """Whether the window's scope reaches the CI (None: a change naming no CI, reached by `all` only)."""
    if window.scope == "all":
        return True
    if ci_id is None:
        return False
    if window.scope == "cis":
        return ci_id in window.scope_values
    if window.scope == "ci_classes":
        ci = session.get(CiRow, ci_id)
        return ci is not None and ci.class_name in window.scope_values
    # A service's window covers the CIs it relies on: walk from the CI to what relies on it.
    if ci_id in window.scope_values:
        return True
    reached, _ = walk(session.connection(), ci_id, MAX_DEPTH, "downstream")
    return any(s in reached for s in window.scope_values)


def _title(window: WindowRow, lang: str) -> str:
    return window.title_zh if lang == "zh" else window.title_en


def _span(window: WindowRow) -> str:
    return f"{window.starts_at:%Y-%m-%d %H:%M}–{window.ends_at:%Y-%m-%d %H:%M} UTC"


def check(session: Session, data: CheckIn, lang: str, freezes: Sequence[WindowRow] | None = None) -> CheckOut:
    """Whether a change planned for [planned_start, planned_end) on `cis` respects the windows.
    `freezes`: those in force over a wider range, read once by a caller checking many changes."""
    if data.planned_end <= data.planned_start:
        raise invalid([Issue("planned_end", "must be after planned_start", "必须晚于计划开始时间")])
    violations: list[ViolationOut] = []
    targets: Sequence[int | None] = data.cis or [None]
    if freezes is None:
        freezes = in_force(session, data.planned_start, data.planned_end, kind="freeze")
    overlapping = [w for w in freezes if w.starts_at < data.planned_end and w.ends_at > data.planned_start]
    for window in overlapping:
        if window.severity == "ecab" and data.emergency_ecab_approved:
            continue
        hit = next((c for c in targets if _covers(session, window, c)), -1)
        if hit == -1:
            continue
        en = f"the planned window falls in the freeze window “{window.title_en}” ({_span(window)})"
        zh = f"计划时间落在封网窗口“{window.title_zh}”（{_span(window)}）内"
        if window.severity == "ecab":
            en += "; only an emergency change approved by the ECAB may go ahead"
            zh += "；只有经紧急变更咨询委员会批准的紧急变更可以实施"
        violations.append(
            ViolationOut(rule="freeze", window_id=window.id, ci_id=hit, message=zh if lang == "zh" else en)
        )
    if data.require_maintenance_window:
        maintenance = in_force(session, data.planned_start, data.planned_end, kind="maintenance")
        for ci_id in data.cis:
            inside = [
                w
                for w in maintenance
                if w.starts_at <= data.planned_start
                and w.ends_at >= data.planned_end
                and _covers(session, w, ci_id)
            ]
            if not inside:
                en = f"no maintenance window of CI {ci_id} covers the planned window"
                zh = f"配置项 {ci_id} 没有覆盖计划时间的维护窗口"
                violations.append(
                    ViolationOut(
                        rule="outside_maintenance",
                        window_id=None,
                        ci_id=ci_id,
                        message=zh if lang == "zh" else en,
                    )
                )
    return CheckOut(allowed=not violations, violations=violations)


def listing(
    session: Session, start: datetime, end: datetime, *, kind: str | None, ci: int | None
) -> list[WindowOut]:
    return [out(w) for w in in_force(session, start, end, kind=kind) if ci is None or _covers(session, w, ci)]
