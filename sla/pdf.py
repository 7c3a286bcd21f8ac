"""The service report as a PDF for people (fpdf2), in Chinese or English, with bar charts: availability
against its target, and each priority's mean and maximum resolution time against its target.

Chinese text needs a CJK font: Noto Sans CJK from Debian's `fonts-noto-cjk` package (an OpenType
collection; face 2 is Simplified Chinese), found at `CJK_FONT` or wherever fontconfig put it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from sla.availability import Availability
from sla.errors import SlaError
from sla.records import PriorityFigures
from sla.report_tables import tables, w
from sla.report_views import ReportSections
from sla.xlsx import word

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMPLIFIED_CHINESE_FACE = 2
TITLES = {"en": "Service report", "zh": "服务报告"}
CHART = {"en": "Resolution time against target (h)", "zh": "解决时间与目标（小时）"}


def _font() -> Path:
    if CJK_FONT.exists():
        return CJK_FONT
    found = sorted(Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"))
    if not found:
        raise SlaError(
            "font",
            "the Chinese font is missing: install Debian's fonts-noto-cjk",
            "缺少中文字体：请安装 Debian 软件包 fonts-noto-cjk",
        )
    return found[0]


def _bar(pdf: FPDF, x: float, y: float, label: str, value: float, scale: float, grey: int) -> None:
    pdf.set_fill_color(grey, grey, grey)
    pdf.rect(x, y, max(value * scale, 0.5), 5, style="F")
    pdf.set_xy(x + max(value * scale, 0.5) + 2, y)
    pdf.cell(text=f"{label} {value:g}")


def document(
    title: str,
    start: datetime,
    end: datetime,
    figures: Availability,
    priorities: list[PriorityFigures],
    lang: str,
    sections: ReportSections | None = None,
) -> bytes:
    pdf = FPDF()
    pdf.add_font("cjk", fname=str(_font()), collection_font_number=SIMPLIFIED_CHINESE_FACE)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(text=f"{TITLES[lang]}: {title}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(text=f"{start.date().isoformat()} – {end.date().isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows: list[tuple[str, object]] = [
        ("committed", round(figures.committed.total_seconds() / 3600, 2)),
        ("unavailable", round(figures.unavailable.total_seconds() / 3600, 2)),
        ("percent", figures.availability_percent),
        ("target", figures.target_percent),
        ("interruptions", figures.interruptions),
        ("max_interruptions", figures.max_interruptions),
        ("mtbf", figures.mtbf_hours),
        ("met", word("yes" if figures.met else "no", lang)),
    ]
    for key, value in rows:
        pdf.cell(w=70, text=word(key, lang))
        pdf.cell(text="–" if value is None else str(value), new_x="LMARGIN", new_y="NEXT")
    # Chart 1: availability against its target (bars from 0 to 100 %).
    pdf.ln(4)
    y = pdf.get_y()
    _bar(pdf, 20, y, word("percent", lang), figures.availability_percent or 0.0, 1.2, 80)
    _bar(pdf, 20, y + 7, word("target", lang), figures.target_percent, 1.2, 180)
    # Chart 2: per priority, mean and maximum resolution time against the target.
    pdf.set_xy(pdf.l_margin, y + 18)
    pdf.cell(text=CHART[lang], new_x="LMARGIN", new_y="NEXT")
    longest = max(
        [1.0]
        + [
            v
            for p in priorities
            for v in (p.max_resolution_hours, p.resolution_target_hours)
            if v is not None
        ]
    )
    scale = 110 / longest
    y = pdf.get_y() + 2
    for p in priorities:
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(text=f"{word('priority', lang)} {p.priority}")
        for i, (key, value, grey) in enumerate(
            (
                ("mean", p.mean_resolution_hours, 80),
                ("max", p.max_resolution_hours, 130),
                ("resolution_target", p.resolution_target_hours, 190),
            )
        ):
            if value is not None:
                _bar(pdf, 45, y + 6 * i, word(key, lang), value, scale, grey)
        y += 20
    if sections is not None:
        _sections(pdf, sections, lang)
    return bytes(pdf.output())


def _sections(pdf: FPDF, sections: ReportSections, lang: str) -> None:
    """Each section as a table on the pages after the charts, and the trend of availability as bars."""
    pdf.add_page()
    pdf.set_font("cjk", size=12)
    pdf.cell(text=w("trends", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    y = pdf.get_y() + 2
    for t in sections.trends:
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(w=40, text=f"{t.start:%Y-%m-%d}")
        _bar(pdf, 55, y, w("availability", lang), t.availability_percent or 0.0, 1.2, 110)
        y += 7
    pdf.set_xy(pdf.l_margin, y + 4)
    for title, heads, rows in tables(sections, lang):
        pdf.set_font("cjk", size=11)
        pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=7)
        if not rows:
            pdf.cell(text=w("no_data", lang), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
            continue
        # Headings shaded, not bold: the CJK font is installed in its regular weight only.
        heading = FontFace(emphasis="", fill_color=(232, 232, 232))
        with pdf.table(text_align="LEFT", line_height=4, headings_style=heading) as table:
            head = table.row()
            for h in heads:
                head.cell(h)
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell("–" if value is None else str(value)[:200])
        pdf.ln(3)
