"""Indicators of JR/T 0074-2012 App. B (seed 003) that the records can compute beyond the per-process
modules: B.3 availability (incident response and detection times, unavailable time of the services), B.6
information security (security incidents, major ones) and B.1 improvement items. reports/coverage.py lists
every App. B indicator, where it is computed, and why the others cannot be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from core.tables import DefinitionRow, RecordRow
from reports.common import Context, count, mean, minutes, truthy
from reports.data import aware_utc, naive_utc
from reports.model import Facts, Kpi, Label
from sla.tables import OutageRow

CATEGORY = "category"
SECURITY = ("security",)
MAJOR = "major_incident"
INTERRUPTION_START = "interruption_start"  # when a service interruption began (library incident)
IMPROVEMENT_KINDS = ("improvement", "csi", "continual_improvement", "service_improvement")

ASSUMPTIONS = [
    "response (B.3 事件响应时长) = creation → the first change of state (accepted, sent to wait, resolved)",
    f"detection (B.3 事件检测时长) = '{INTERRUPTION_START}' → creation, for incidents that give it",
    f"security incidents: '{CATEGORY}' in {list(SECURITY)}; major ones also have '{MAJOR}' set",
]


def first_response(f: Facts) -> datetime | None:
    return next((e.at for e in f.transitions()), None)


def detected_after(f: Facts) -> float | None:
    value = f.fields.get(INTERRUPTION_START)
    if not isinstance(value, str) or not value:
        return None
    try:
        began = naive_utc(datetime.fromisoformat(value))
    except ValueError:
        return None
    return None if began is None or began > f.created_at else minutes(began, f.created_at)


def incident_extras(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    responses = [minutes(f.created_at, at) for f in facts if (at := first_response(f)) is not None]
    detections = [m for m in (detected_after(f) for f in facts) if m is not None]
    security = [f for f in facts if str(f.fields.get(CATEGORY, "")).lower() in SECURITY]
    return [
        mean(
            "mean_response_time",
            "事件响应时长（平均）",
            "Mean incident response time",
            responses,
            unit="minutes",
            formula="Σ (first change of state − creation) / incidents that changed state",
            formula_zh="Σ（首次状态变更时间 − 创建时间）/ 发生过状态变更的事件数",
            source="JR/T 0074-2012 App. B.3",
            period=p,
        ),
        mean(
            "mean_detection_time",
            "事件检测时长（平均）",
            "Mean incident detection time",
            detections,
            unit="minutes",
            formula="Σ (creation − interruption began) / incidents that give when the interruption began",
            formula_zh="Σ（创建时间 − 中断开始时间）/ 填写了中断开始时间的事件数",
            source="JR/T 0074-2012 App. B.3",
            period=p,
        ),
        count(
            "security_incidents",
            "安全事件数量",
            "Security incidents",
            len(security),
            formula="incidents classified as security",
            formula_zh="分类为信息安全的事件数",
            source="JR/T 0074-2012 App. B.6",
            period=p,
        ),
        count(
            "major_security_incidents",
            "重大安全事件发生数",
            "Major security incidents",
            sum(1 for f in security if truthy(f.fields.get(MAJOR))),
            formula="security incidents declared major (yearly when the period is a year)",
            formula_zh="被定为重大事件的安全事件数（统计期为一年时即年度发生数）",
            source="JR/T 0074-2012 App. B.6",
            period=p,
        ),
    ]


def _unavailable_hours(session: Session, start: datetime | None, end: datetime | None) -> float:
    """Unplanned outage time in the period, overlapping outages of one service counted once."""
    query = select(OutageRow.service, OutageRow.start, OutageRow.end).where(col(OutageRow.planned).is_(False))
    if start is not None:
        query = query.where(col(OutageRow.end) > start)
    if end is not None:
        query = query.where(col(OutageRow.start) < end)
    total = timedelta()
    last: dict[str, datetime] = {}
    for service, s, e in sorted(session.exec(query).all()):
        s, e = s.astimezone(UTC), e.astimezone(UTC)
        s, e = max(s, start or s), min(e, end or e)
        s = max(s, last.get(service, s))
        if e > s:
            total += e - s
            last[service] = e
    return round(total.total_seconds() / 3600, 2)


def service_level_extras(ctx: Context, session: Session) -> list[Kpi]:
    p = ctx.period
    start, end = aware_utc(p.start), aware_utc(p.end)
    keys = [
        k
        for k in session.exec(select(DefinitionRow.key).distinct()).all()
        if k not in ctx.hidden and any(k == kind or k.startswith(kind + "_") for kind in IMPROVEMENT_KINDS)
    ]
    unavailable = _unavailable_hours(session, start, end)
    items = 0
    if keys:
        query = select(func.count()).select_from(RecordRow).where(col(RecordRow.definition_key).in_(keys))
        if end is not None:
            query = query.where(col(RecordRow.created_at) < end)
        if start is not None:
            query = query.where(or_(col(RecordRow.closed_at).is_(None), col(RecordRow.closed_at) >= start))
        items = int(session.exec(query).one())
    return [
        Kpi(
            key="unavailable_hours",
            label=Label(zh="服务不可用时长", en="Service unavailable time"),
            value=unavailable,
            numerator=unavailable,
            unit="hours",
            formula="Σ unplanned outages of every service within the period (wall clock, overlaps once)",
            formula_zh="本期内各服务计划外中断时长之和（按自然时间计，重叠部分只计一次）",
            source="JR/T 0074-2012 App. B.3",
            period=p,
        ),
        count(
            "improvement_items",
            "服务改进项数量",
            "Improvement items identified and handled",
            items,
            formula="records of an improvement (CSI) process open during the period; none without one",
            formula_zh="本期内处于未关闭状态的改进（持续服务改进）流程记录数；没有改进流程时为 0",
            source="JR/T 0074-2012 App. B.1",
            period=p,
        ),
    ]
