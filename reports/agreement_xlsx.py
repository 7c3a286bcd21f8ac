"""The service report as a spreadsheet for analysts (openpyxl): one sheet per section, headed in the
reader's language; times in the time zone the period was given in; an empty cell where there is no data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.agreement_model import ListedRecord, ServiceReport
from reports.agreement_words import local, text, word

BOLD = Font(bold=True)


def _sheet(book: Workbook, name: str, heads: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet = book.create_sheet(name)
    sheet.append(list(heads))
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append(list(row))
    for i, head in enumerate(heads):
        sheet.column_dimensions[sheet.cell(row=1, column=i + 1).column_letter].width = max(12, len(head) * 2)


def _records(report: ServiceReport, items: list[ListedRecord], lang: str) -> list[list[Any]]:
    zone = report.period.start.tzinfo
    return [
        [
            i.number,
            i.title,
            i.priority,
            i.state,
            local(i.created_at, zone),
            local(i.resolved_at, zone),
            ", ".join(i.clocks),
            i.reason,
        ]
        for i in items
    ]


def workbook(report: ServiceReport, lang: str) -> bytes:
    def w(key: str) -> str:  # a short name keeps the tables readable
        return word(key, lang)

    zone = report.period.start.tzinfo
    a = report.availability
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has its first sheet
    book.remove(first)
    _sheet(
        book,
        w("summary"),
        [w("figure"), w("value")],
        [
            [w("report"), text(report.title, lang, report.agreement)],
            [w("agreement"), f"{report.agreement} v{report.version}"],
            [w("service"), report.service],
            [w("start"), local(report.period.start, zone)],
            [w("end"), local(report.period.end, zone)],
            *[[w("notes"), text(n, lang)] for n in report.notes],
        ],
    )
    _sheet(
        book,
        w("availability"),
        [w("figure"), w("value")],
        [
            [w("committed"), a.committed_hours],
            [w("unavailable"), a.unavailable_hours],
            [w("percent"), a.availability_percent],
            [w("target"), a.availability_target],
            [w("interruptions"), a.interruptions],
            [w("max_interruptions"), a.max_interruptions],
            [w("mtbf"), a.mtbf_hours],
            [w("longest"), a.longest_outage_hours],
            [w("planned_outages"), a.planned_outages],
            [w("met"), w("yes" if a.met else "no")],
            [],
            [w("start"), w("end"), w("planned"), w("incident"), w("hours")],
            *[
                [
                    local(o.start, zone),
                    local(o.end, zone),
                    w("yes" if o.planned else "no"),
                    o.incident,
                    o.hours,
                ]
                for o in a.outages
            ],
        ],
    )
    _sheet(
        book,
        w("attainment"),
        [w("indicator"), w("met_count"), w("breached_count"), w("running"), w("attained")],
        [[text(i.label, lang), i.met, i.breached, i.running, i.percent] for i in report.attainment]
        + [[]]
        + [[w("priority"), w("records"), w("resolved"), w("breached_records"), w("mean_resolution")]]
        + [
            [p.priority, p.records, p.resolved, p.breached, p.mean_resolution_hours]
            for p in report.priorities
        ],
    )
    heads = [
        w(k) for k in ("number", "title", "priority", "state", "created", "resolved_at", "clocks", "reason")
    ]
    _sheet(book, w("deviations"), heads, _records(report, report.deviations.items, lang))
    _sheet(book, w("major"), heads[:6], [r[:6] for r in _records(report, report.major_incidents.items, lang)])
    _sheet(
        book,
        w("kpis"),
        [w("process"), w("indicator"), w("value"), w("unit"), w("numerator"), w("denominator"), w("source")],
        [
            [
                k.definition,
                text(i.label, lang),
                i.value,
                w(f"{i.unit}_unit"),
                i.numerator,
                i.denominator,
                i.source,
            ]
            for k in report.kpis
            for i in k.indicators
        ],
    )
    s = report.satisfaction
    _sheet(
        book,
        w("satisfaction"),
        [w("score"), w("records")],
        [[score, n] for score, n in s.distribution.items()]
        + [
            [],
            [w("responses"), s.responses],
            [w("mean_score"), s.mean],
            [w("satisfied"), s.satisfied_percent],
        ]
        + [[w("notes"), text(s.note, lang)]],
    )
    _sheet(
        book,
        w("trends"),
        [
            w("period"),
            w("records"),
            w("breached_records"),
            w("trend_attainment"),
            w("trend_availability"),
            w("mean_resolution"),
            w("trend_satisfaction"),
        ],
        [
            [
                t.label,
                t.records,
                t.breached,
                t.attainment_percent,
                t.availability_percent,
                t.mean_resolution_hours,
                t.satisfaction_mean,
            ]
            for t in report.trends
        ],
    )
    imp = report.improvements
    rows = _records(report, imp.items, lang)
    _sheet(
        book,
        w("improvements"),
        heads[:6],
        [r[:6] for r in rows] + ([[text(imp.note, lang)]] if imp.note else []),
    )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
