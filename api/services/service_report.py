"""The whole service report (服务报告) for an agreement and a period, as the API answers it and as the
spreadsheet and the PDF render it: the sections of `sla/report_sections.py` and each process's KPIs
(reports/), every text in the reader's language."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from reports.data import definition_known
from reports.kpis import compute_kpis
from reports.model import Period
from sla.report_sections import Sections, sections
from sla.report_views import (
    AttainmentOut,
    KpiRow,
    ListedOut,
    OutageListed,
    ReportSections,
    SatisfactionOut,
    TrendOut,
)
from sla.tables import AgreementRow

PROCESSES = ("incident", "problem", "change")
INDICATORS = {"response": ("Response", "响应"), "resolution": ("Resolution", "解决")}


def _listed(items: list[object]) -> list[ListedOut]:
    return [ListedOut.model_validate(i, from_attributes=True) for i in items]


def kpi_rows(
    session: Session, start: datetime, end: datetime, lang: str, hidden: frozenset[str]
) -> list[KpiRow]:
    rows = []
    for process in PROCESSES:
        if not definition_known(session, process):
            continue
        report = compute_kpis(session, definition=process, period=Period(start=start, end=end), hidden=hidden)
        for k in report.indicators:
            rows.append(
                KpiRow(
                    process=process,
                    key=k.key,
                    label=k.label.zh if lang == "zh" else k.label.en,
                    value=k.value,
                    unit=k.unit,
                    formula=k.formula_in(lang),
                    source=k.source_in(lang),
                )
            )
    return rows


def build(
    session: Session,
    agreement: AgreementRow,
    start: datetime,
    end: datetime,
    lang: str,
    hidden: frozenset[str] = frozenset(),
) -> ReportSections:
    found: Sections = sections(session, agreement, start, end)
    zh = lang == "zh"
    return ReportSections(
        attainment=[
            AttainmentOut(
                indicator=a.indicator,
                indicator_label=INDICATORS[a.indicator][1 if zh else 0],
                priority=a.priority,
                measured=a.measured,
                within_target=a.within_target,
                percent=a.percent,
                target_hours=a.target_hours,
                mean_service_hours=a.mean_service_hours,
                max_service_hours=a.max_service_hours,
            )
            for a in found.attainment
        ],
        deviations=_listed(list(found.deviations)),
        deviations_total=found.deviations_total,
        major_incidents=_listed(list(found.major_incidents)),
        major_incidents_total=found.major_incidents_total,
        outages=[OutageListed.model_validate(o, from_attributes=True) for o in found.outages],
        satisfaction=SatisfactionOut.model_validate(found.satisfaction, from_attributes=True),
        trends=[TrendOut.model_validate(t, from_attributes=True) for t in found.trends],
        kpis=kpi_rows(session, start, end, lang, hidden),
        improvements=_listed(list(found.improvements)),
        notes=[zh_text if zh else en_text for en_text, zh_text in found.notes],
    )
