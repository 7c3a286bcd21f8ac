"""The service report as a spreadsheet for analysts (openpyxl): one sheet of availability figures and
one of the records per priority, headed in the reader's language (zh or en)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

from sla.availability import Availability
from sla.records import PriorityFigures
from sla.report_tables import tables
from sla.report_views import ReportSections

WORDS = {
    "availability": ("Availability", "可用性"),
    "records": ("Records", "记录"),
    "figure": ("Figure", "指标"),
    "value": ("Value", "数值"),
    "committed": ("Committed service time (h)", "承诺服务时间（小时）"),
    "unavailable": ("Unavailable time (h)", "不可用时间（小时）"),
    "percent": ("Availability (%)", "可用率（%）"),
    "target": ("Availability target (%)", "可用率目标（%）"),
    "interruptions": ("Interruptions", "中断次数"),
    "max_interruptions": ("Maximum interruptions", "最大中断次数"),
    "mtbf": ("MTBF (h)", "平均故障间隔（小时）"),
    "met": ("Target met", "是否达标"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "priority": ("Priority", "优先级"),
    "count": ("Records", "记录数"),
    "resolved": ("Resolved", "已解决"),
    "breached": ("Breached", "超时"),
    "mean": ("Mean resolution (h)", "平均解决时间（小时）"),
    "max": ("Maximum resolution (h)", "最长解决时间（小时）"),
    "resolution_target": ("Resolution target (h)", "解决目标（小时）"),
}


def word(key: str, lang: str) -> str:
    en, zh = WORDS[key]
    return zh if lang == "zh" else en


def workbook(
    title: str,
    figures: Availability,
    priorities: list[PriorityFigures],
    lang: str,
    sections: ReportSections | None = None,
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its first sheet
    sheet.title = word("availability", lang)
    sheet.append([title])
    sheet.append([word("figure", lang), word("value", lang)])
    rows: list[tuple[str, float | int | str | None]] = [
        ("committed", round(figures.committed.total_seconds() / 3600, 4)),
        ("unavailable", round(figures.unavailable.total_seconds() / 3600, 4)),
        ("percent", figures.availability_percent),
        ("target", figures.target_percent),
        ("interruptions", figures.interruptions),
        ("max_interruptions", figures.max_interruptions),
        ("mtbf", figures.mtbf_hours),
        ("met", word("yes" if figures.met else "no", lang)),
    ]
    for key, value in rows:
        sheet.append([word(key, lang), value])
    table = book.create_sheet(word("records", lang))
    heads = ("priority", "count", "resolved", "breached", "mean", "max", "resolution_target")
    table.append([word(h, lang) for h in heads])
    for p in priorities:
        table.append(
            [
                p.priority,
                p.records,
                p.resolved,
                p.breached,
                p.mean_resolution_hours,
                p.max_resolution_hours,
                p.resolution_target_hours,
            ]
        )
    for name, headings, cells in tables(sections, lang) if sections is not None else []:
        extra = book.create_sheet(_sheet_name(name))
        extra.append(headings)
        for line in cells:
            extra.append(line)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str) -> str:
    r"""Excel's rule: at most 31 characters, none of []:*?/\."""
    clean = "".join("_" if c in "[]:*?/\\" else c for c in title)
    return clean[:31]
