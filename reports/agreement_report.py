"""The service report (服务报告) of one agreement and period, assembled from its sections (issue 21, seed
003 App. A, seed 002 §8.3.2): SLA attainment per indicator, deviations with their reasons, major incidents,
each process's key indicators, availability and continuity, customer satisfaction, trends against the
previous periods and the improvement items.

The record sections are counted in the database (sla/report_sections.py, sla/records.py,
sla/availability.py); the process indicators are the KPI report's (reports/kpis.py) over the same period.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from core.store import latest_published
from core.tables import DefinitionRow, RecordRow
from definitions.loader import load_text
from definitions.model import Definition
from reports import report_periods
from reports.agreement_model import (
    AvailabilitySection,
    ImprovementSection,
    IndicatorAttainment,
    ListedRecord,
    OutageItem,
    PeriodOut,
    PriorityRow,
    RecordSection,
    SatisfactionSection,
    ServiceReport,
    TrendPoint,
)
from reports.kpis import compute_kpis
from reports.model import KpiReport, Label, Period
from sla import report_sections as sections
from sla.availability import availability, check_period
from sla.records import record_figures
from sla.tables import AgreementRow, OutageRow

TREND_PERIODS = 6
# Processes whose records are improvement items (CSI, 持续改进): a definition key, or its first word.
IMPROVEMENT_KINDS = ("improvement", "csi", "continual_improvement", "service_improvement")
KPI_ORDER = ("incident", "problem", "change", "standard_change", "release", "config_audit", "service_level")
SCOPE_NOTE = Label(
    zh="记录部分统计本协议覆盖、在本期间内创建的记录；各流程关键指标统计本期间内创建的全部记录。",
    en="The record sections count the records this agreement covered that were created in the period; "
    "each process's key indicators count every record created in the period.",
)


def _definitions(session: Session, keys: set[str]) -> dict[str, Definition]:
    out = {}
    for key in sorted(keys):
        row = (
            latest_published(session, key)
            or session.exec(
                select(DefinitionRow)
                .where(DefinitionRow.key == key)
                .order_by(col(DefinitionRow.version).desc())
            ).first()
        )
        loaded = load_text(row.source).definition if row is not None else None
        if loaded is not None:
            out[key] = loaded
    return out


def _covered_definitions(session: Session, key: str, start: datetime, end: datetime) -> set[str]:
    query = select(RecordRow.definition_key).where(*sections.covered(key, start, end)).distinct()
    return set(session.exec(query).all())


def _label(text: object, default: str) -> Label:
    zh, en = getattr(text, "zh", None), getattr(text, "en", None)
    return (
        Label(zh=zh, en=en) if isinstance(zh, str) and isinstance(en, str) else Label(zh=default, en=default)
    )


def _listed(items: list[sections.Listed], defs: dict[str, Definition]) -> list[ListedRecord]:
    out = []
    for i in items:
        d = defs.get(i.definition)
        state = d.state(i.state) if d else None
        clocks = {s.name: s.label for s in d.slas} if d else {}
        out.append(
            ListedRecord(
                **{k: v for k, v in asdict(i).items() if k != "reason_field"},
                state_label=_label(state.label if state else None, i.state),
                clock_labels=[_label(clocks.get(c), c) for c in i.clocks],
            )
        )
    return out


def _attainment(
    session: Session, key: str, start: datetime, end: datetime, defs: dict[str, Definition]
) -> list[IndicatorAttainment]:
    labels = {s.name: s.label for d in defs.values() for s in d.slas if s.label is not None}
    return [
        IndicatorAttainment(
            label=_label(labels.get(a.indicator), a.indicator), percent=a.percent, **asdict(a)
        )
        for a in sections.attainment(session, key, start, end)
    ]


def _deviation_note(defs: dict[str, Definition]) -> Label:
    reasons = [
        (d.field(name), name) for d in defs.values() for name in sections.REASON_FIELDS if d.field(name)
    ]
    if not reasons:
        return Label(
            zh="这些记录的流程定义没有“未达标原因”字段：原因请见各记录的处理记录。",
            en="The records' process definitions have no field for the reason of a deviation: see each "
            "record's history.",
        )
    spec, name = reasons[0]
    zh = spec.label.zh if spec is not None and spec.label else name
    en = spec.label.en if spec is not None and spec.label else name
    return Label(zh=f"原因取自记录的“{zh}”字段。", en=f"Reasons are the records' field “{en}”.")


def _availability(session: Session, row: AgreementRow, start: datetime, end: datetime) -> AvailabilitySection:
    figures = availability(session, row, start, end)
    rows = session.exec(
        select(OutageRow)
        .where(OutageRow.service == row.service, col(OutageRow.start) < end, col(OutageRow.end) > start)
        .order_by(col(OutageRow.start))
    ).all()
    outages = [
        OutageItem(
            start=o.start,
            end=o.end,
            planned=o.planned,
            incident=o.incident,
            hours=round((min(o.end, end) - max(o.start, start)).total_seconds() / 3600, 2),
        )
        for o in rows
    ]
    unplanned = [o.hours for o in outages if not o.planned]
    return AvailabilitySection(
        agreement=row.key,
        version=row.version,
        start=start,
        end=end,
        committed_hours=round(figures.committed.total_seconds() / 3600, 4),
        unavailable_hours=round(figures.unavailable.total_seconds() / 3600, 4),
        availability_percent=figures.availability_percent,
        availability_target=figures.target_percent,
        interruptions=figures.interruptions,
        max_interruptions=figures.max_interruptions,
        mtbf_hours=figures.mtbf_hours,
        met=figures.met,
        longest_outage_hours=max(unplanned) if unplanned else None,
        planned_outages=sum(1 for o in outages if o.planned),
        outages=outages,
    )


def _satisfaction(session: Session, key: str, start: datetime, end: datetime) -> SatisfactionSection:
    scores = sections.satisfaction(session, key, start, end)
    return SatisfactionSection(
        **asdict(scores),
        note=Label(
            zh="满意度取自记录的“满意度”字段（1–5 分，5 为非常满意，回访确认时记录）；未评分的记录不计。",
            en="Satisfaction is the records' “Satisfaction” field (1–5, 5 = very "
            "satisfied, recorded at confirmation); records without a score are not counted.",
        ),
    )


def _trends(
    session: Session, row: AgreementRow, start: datetime, end: datetime, count: int
) -> list[TrendPoint]:
    """This period and the `count` before it: the record figures in two queries, availability per period."""
    bounds = report_periods.previous(start, end, count)
    figures = sections.period_figures(session, row.key, bounds)
    attained = sections.attainment_by_period(session, row.key, bounds)
    out = []
    for (s, e), f, per in zip(bounds, figures, attained, strict=True):
        met, judged = sum(a.met for a in per), sum(a.met + a.breached for a in per)
        out.append(
            TrendPoint(
                start=s,
                end=e,
                label=report_periods.label(s, e),
                records=f.records,
                breached=f.breached,
                attainment_percent=round(100.0 * met / judged, 2) if judged else None,
                availability_percent=availability(session, row, s, e).availability_percent,
                mean_resolution_hours=f.mean_resolution_hours,
                satisfaction_mean=f.satisfaction_mean,
            )
        )
    return out


def _improvements(
    session: Session, start: datetime, end: datetime, hidden: frozenset[str]
) -> ImprovementSection:
    keys = [
        k
        for k in session.exec(select(DefinitionRow.key).distinct()).all()
        if k not in hidden and any(k == kind or k.startswith(kind + "_") for kind in IMPROVEMENT_KINDS)
    ]
    if not keys:
        return ImprovementSection(
            definitions=[],
            total=0,
            items=[],
            note=Label(
                zh="未发现改进（持续服务改进）流程：没有改进项。"
                "发布键为 improvement 的流程定义后，其记录列于此处。",
                en="No improvement (continual service improvement) process is defined, so there are no "
                "improvement items; once a process with the key 'improvement' is published, its records "
                "are listed here.",
            ),
        )
    active = (
        col(RecordRow.definition_key).in_(keys),
        col(RecordRow.created_at) < end,
        or_(col(RecordRow.closed_at).is_(None), col(RecordRow.closed_at) >= start),
    )
    total = session.exec(select(func.count()).select_from(RecordRow).where(*active)).one()
    rows = session.exec(select(RecordRow).where(*active).order_by(col(RecordRow.created_at)).limit(100)).all()
    listed = [
        sections.Listed(
            id=r.id,
            number=r.number,
            definition=r.definition_key,
            title=r.title,
            priority=r.priority,
            state=r.state,
            created_at=r.created_at,
            resolved_at=r.resolved_at,
        )
        for r in rows
    ]
    items = _listed(listed, _definitions(session, set(keys)))
    return ImprovementSection(definitions=sorted(keys), total=int(total), items=items)


def process_kpis(session: Session, start: datetime, end: datetime, hidden: frozenset[str]) -> list[KpiReport]:
    """The key indicators of every process with records created in the period."""
    keys = session.exec(
        select(RecordRow.definition_key)
        .where(col(RecordRow.created_at) >= start, col(RecordRow.created_at) < end)
        .distinct()
    ).all()
    shown = [k for k in keys if k not in hidden]
    shown.sort(key=lambda k: (KPI_ORDER.index(k) if k in KPI_ORDER else len(KPI_ORDER), k))
    period = Period(start=start, end=end)
    return [compute_kpis(session, definition=k, period=period, hidden=hidden) for k in shown]


def _titles(session: Session, keys: list[str]) -> dict[str, Label]:
    rows = session.exec(
        select(DefinitionRow).where(col(DefinitionRow.key).in_(keys)).order_by(col(DefinitionRow.version))
    ).all()
    titles = {r.key: Label(zh=r.title_zh or r.key, en=r.title_en or r.key) for r in rows}
    return {k: titles.get(k, Label(zh=k, en=k)) for k in keys}


def build(
    session: Session,
    row: AgreementRow,
    start: datetime,
    end: datetime,
    *,
    trend_periods: int = TREND_PERIODS,
    hidden: frozenset[str] = frozenset(),
) -> ServiceReport:
    """The whole report. Raises `SlaError` (nothing written) when the period ends before it starts or a
    bound has no time zone."""
    check_period(start, end)
    defs = _definitions(session, _covered_definitions(session, row.key, start, end))
    late = sections.deviations(session, row.key, start, end)
    kpis = process_kpis(session, start, end, hidden)
    major = sections.major_incidents(session, row.key, start, end)
    return ServiceReport(
        agreement=row.key,
        version=row.version,
        service=row.service,
        title=row.spec["title"],
        period=PeriodOut(start=start, end=end),
        availability=_availability(session, row, start, end),
        priorities=[PriorityRow(**asdict(p)) for p in record_figures(session, row, start, end)],
        attainment=_attainment(session, row.key, start, end, defs),
        deviations=RecordSection(
            total=late.total, items=_listed(late.items, defs), note=_deviation_note(defs)
        ),
        major_incidents=RecordSection(total=major.total, items=_listed(major.items, defs)),
        kpis=kpis,
        process_titles=_titles(session, [k.definition for k in kpis]),
        satisfaction=_satisfaction(session, row.key, start, end),
        trends=_trends(session, row, start, end, trend_periods),
        improvements=_improvements(session, start, end, hidden),
        notes=[SCOPE_NOTE],
    )
