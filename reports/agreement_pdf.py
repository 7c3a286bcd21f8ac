"""The service report as a PDF for people (fpdf2), in Chinese or English, with charts drawn as vector
bars: availability against its target, attainment per indicator, resolution time per priority against
its target, the satisfaction scores, and the trend of attainment and availability over the periods.

Chinese text needs a CJK font: Noto Sans CJK from Debian's `fonts-noto-cjk` (sla/fonts.py finds it)."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from reports.agreement_model import ListedRecord, RecordSection, ServiceReport
from reports.agreement_words import local, shown, text, word
from sla.fonts import SIMPLIFIED_CHINESE_FACE, cjk_font

GREYS = (70, 130, 190)
LABEL_W, BAR_X, BAR_W = 55.0, 75.0, 100.0


class _Pdf(FPDF):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.add_font("cjk", fname=str(cjk_font()), collection_font_number=SIMPLIFIED_CHINESE_FACE)
        self.set_auto_page_break(True, margin=15)

    def heading(self, key: str) -> None:
        if self.get_y() > 240:
            self.add_page()
        self.ln(4)
        self.set_font("cjk", size=13)
        self.cell(h=8, text=word(key, self.lang), new_x="LMARGIN", new_y="NEXT")
        self.set_font("cjk", size=9)
        self.ln(1)

    def line_of(self, label: str, value: str) -> None:
        self.cell(w=LABEL_W + 20, h=5, text=label)
        self.cell(h=5, text=value, new_x="LMARGIN", new_y="NEXT")

    def note(self, value: str) -> None:
        self.set_font("cjk", size=8)
        self.ln(1)
        self.multi_cell(w=0, h=4, text=value, new_x="LMARGIN", new_y="NEXT")
        self.set_font("cjk", size=9)

    def bars(
        self, rows: Sequence[tuple[str, Sequence[float | None]]], top: float, legend: Sequence[str]
    ) -> None:
        """One group of bars per row (up to three values each, in shades of grey), scaled to `top`."""
        scale = BAR_W / (top or 1.0)
        if legend:
            self.set_font("cjk", size=7)
            for i, name in enumerate(legend):
                self.set_fill_color(*(GREYS[i],) * 3)
                x = BAR_X + i * 35
                self.rect(x, self.get_y() + 1, 3, 3, style="F")
                self.set_xy(x + 4, self.get_y())
                self.cell(text=name)
            self.ln(5)
            self.set_font("cjk", size=8)
        for label, values in rows:
            if self.get_y() > 270:
                self.add_page()
            y = self.get_y()
            self.set_xy(self.l_margin, y)
            self.cell(w=LABEL_W, text=label[:28])
            for i, value in enumerate(values):
                self.set_fill_color(*(GREYS[i % 3],) * 3)
                width = max((value or 0.0) * scale, 0.4)
                self.rect(BAR_X, y + 1 + 4 * i, width, 3.5, style="F")
                self.set_xy(BAR_X + width + 1, y + 4 * i)
                self.set_font("cjk", size=7)
                self.cell(text=shown(value, self.lang))
                self.set_font("cjk", size=9)
            self.set_xy(self.l_margin, y + max(6, 4 * len(values) + 2))

    def grid(self, heads: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        self.set_font("cjk", size=8)
        for row in [list(heads), *rows]:
            if self.get_y() > 275:
                self.add_page()
            for w, value in zip(widths, row, strict=False):
                self.cell(w=w, h=5, text=value[: int(w / 1.9)], border="B")
            self.ln(5)
        self.set_font("cjk", size=9)


def _records(pdf: _Pdf, report: ServiceReport, section: RecordSection, reasons: bool) -> None:
    lang, zone = pdf.lang, report.period.start.tzinfo
    pdf.line_of(word("total", lang), f"{section.total} ({word('listed', lang)} {len(section.items)})")
    heads = [word(k, lang) for k in ("number", "title", "priority", "state", "created")]
    widths = [28.0, 52.0, 14.0, 22.0, 28.0]
    if reasons:
        heads += [word("clocks", lang), word("reason", lang)]
        widths = [24.0, 34.0, 10.0, 18.0, 24.0, 30.0, 50.0]

    def row(i: ListedRecord) -> list[str]:
        created = local(i.created_at, zone)
        out = [i.number, i.title, i.priority or "", text(i.state_label, lang, i.state)]
        out.append(created.strftime("%Y-%m-%d %H:%M") if created else "")
        if reasons:
            out += ["、".join(text(c, lang) for c in i.clock_labels), i.reason or "—"]
        return out

    if section.items:
        pdf.grid(heads, [row(i) for i in section.items], widths)
    if section.note:
        pdf.note(text(section.note, lang))


def document(report: ServiceReport, lang: str) -> bytes:
    pdf = _Pdf(lang)
    zone = report.period.start.tzinfo
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(
        text=f"{word('report', lang)}: {text(report.title, lang, report.agreement)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("cjk", size=9)
    start, end = local(report.period.start, zone), local(report.period.end, zone)
    assert start is not None and end is not None
    pdf.line_of(
        word("period", lang), f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({start.tzname() or zone})"
    )
    pdf.line_of(
        word("agreement", lang),
        f"{report.agreement} v{report.version} · {word('service', lang)} {report.service}",
    )
    for n in report.notes:
        pdf.note(text(n, lang))

    pdf.heading("attainment_title")
    for i in report.attainment:
        pdf.line_of(
            text(i.label, lang),
            f"{shown(i.percent, lang)}{'' if i.percent is None else ' %'}"
            f"  ({word('met_count', lang)} {i.met} / {word('breached_count', lang)} {i.breached}"
            f" / {word('running', lang)} {i.running})",
        )
    pdf.bars([(text(i.label, lang), [i.percent]) for i in report.attainment], 100.0, [])
    if report.priorities:
        pdf.ln(2)
        pdf.cell(h=6, text=word("resolution_chart", lang), new_x="LMARGIN", new_y="NEXT")
        rows = [
            (
                f"{word('priority', lang)} {p.priority}",
                [p.mean_resolution_hours, p.max_resolution_hours, p.resolution_target_hours],
            )
            for p in report.priorities
        ]
        top = max([1.0] + [v for _, vs in rows for v in vs if v is not None])
        pdf.bars(
            rows, top, [word(k, lang) for k in ("mean_resolution", "max_resolution", "resolution_target")]
        )

    pdf.heading("deviations_title")
    _records(pdf, report, report.deviations, reasons=True)
    pdf.heading("major")
    _records(pdf, report, report.major_incidents, reasons=False)

    a = report.availability
    pdf.heading("availability_continuity")
    for key, value in (
        ("committed", a.committed_hours),
        ("unavailable", a.unavailable_hours),
        ("percent", a.availability_percent),
        ("target", a.availability_target),
        ("interruptions", a.interruptions),
        ("max_interruptions", a.max_interruptions),
        ("mtbf", a.mtbf_hours),
        ("longest", a.longest_outage_hours),
        ("planned_outages", a.planned_outages),
    ):
        pdf.line_of(word(key, lang), shown(value, lang))
    pdf.line_of(word("met", lang), word("yes" if a.met else "no", lang))
    pdf.bars(
        [(word("percent", lang), [a.availability_percent]), (word("target", lang), [a.availability_target])],
        100.0,
        [],
    )

    pdf.heading("kpis_title")
    for k in report.kpis:
        pdf.set_font("cjk", size=10)
        title = report.process_titles.get(k.definition)
        pdf.cell(h=7, text=f"{text(title, lang, k.definition)} ({k.records})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        for kpi in k.indicators:
            unit = "" if kpi.value is None or kpi.unit == "count" else f" {word(kpi.unit + '_unit', lang)}"
            pdf.line_of(text(kpi.label, lang), f"{shown(kpi.value, lang)}{unit}")

    s = report.satisfaction
    pdf.heading("satisfaction_title")
    pdf.line_of(word("responses", lang), str(s.responses))
    pdf.line_of(word("mean_score", lang), shown(s.mean, lang))
    pdf.line_of(word("satisfied", lang), shown(s.satisfied_percent, lang))
    pdf.bars(
        [(f"{word('score', lang)} {k}", [float(v)]) for k, v in s.distribution.items()],
        float(max([1, *s.distribution.values()])),
        [],
    )
    pdf.note(text(s.note, lang))

    pdf.heading("trends_title")
    pdf.bars(
        [(t.label, [t.attainment_percent, t.availability_percent]) for t in report.trends],
        100.0,
        [word("trend_attainment", lang), word("trend_availability", lang)],
    )
    pdf.grid(
        [
            word(k, lang)
            for k in ("period", "records", "breached_records", "mean_resolution", "trend_satisfaction")
        ],
        [
            [
                t.label,
                str(t.records),
                str(t.breached),
                shown(t.mean_resolution_hours, lang),
                shown(t.satisfaction_mean, lang),
            ]
            for t in report.trends
        ],
        [35.0, 25.0, 30.0, 45.0, 40.0],
    )

    pdf.heading("improvements_title")
    _records(
        pdf,
        report,
        RecordSection(
            total=report.improvements.total, items=report.improvements.items, note=report.improvements.note
        ),
        reasons=False,
    )
    return bytes(pdf.output())
