"""The service report's sections as tables: one heading row and data rows each, in the reader's
language, shared by the spreadsheet (a sheet per section) and the PDF (a table per section)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sla.report_views import ListedOut, ReportSections

WORDS: dict[str, tuple[str, str]] = {
    "attainment": ("SLA attainment", "服务级别达成"),
    "deviations": ("Deviations", "偏差"),
    "major_incidents": ("Major incidents", "重大事件"),
    "outages": ("Availability and continuity", "可用性与连续性"),
    "satisfaction": ("Customer satisfaction", "客户满意度"),
    "trends": ("Trends", "趋势"),
    "kpis": ("Process KPIs", "流程关键指标"),
    "improvements": ("Improvement items", "改进项"),
    "notes": ("Notes", "说明"),
    "indicator": ("Indicator", "指标"),
    "priority": ("Priority", "优先级"),
    "measured": ("Measured", "计量数"),
    "within": ("Within target", "达标数"),
    "percent": ("Attainment (%)", "达成率（%）"),
    "target": ("Target (service h)", "目标（服务小时）"),
    "mean": ("Mean (service h)", "平均（服务小时）"),
    "max": ("Maximum (service h)", "最长（服务小时）"),
    "number": ("Number", "编号"),
    "title": ("Title", "标题"),
    "created": ("Created", "创建时间"),
    "resolved": ("Resolved", "解决时间"),
    "reason": ("Reason", "原因"),
    "start": ("Start", "开始"),
    "end": ("End", "结束"),
    "planned": ("Planned", "计划内"),
    "incident": ("Incident", "事件"),
    "availability": ("Availability (%)", "可用率（%）"),
    "interruptions": ("Interruptions", "中断次数"),
    "records": ("Records", "记录数"),
    "breached": ("Breached", "超时数"),
    "answers": ("Answers", "回访数"),
    "score": ("Mean score (1–5)", "平均分（1–5）"),
    "process": ("Process", "流程"),
    "value": ("Value", "数值"),
    "unit": ("Unit", "单位"),
    "formula": ("Formula", "公式"),
    "source": ("Clause", "条款"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "total": ("of {n} in all", "共 {n} 项"),
    "no_data": ("no data", "无数据"),
}
UNITS = {
    "percent": ("%", "%"),
    "count": ("count", "个"),
    "minutes": ("minutes", "分钟"),
    "hours": ("hours", "小时"),
    "days": ("days", "天"),
}
PROCESSES = {
    "incident": ("Incident", "事件管理"),
    "problem": ("Problem", "问题管理"),
    "change": ("Change", "变更管理"),
}

Cell = str | int | float | None
Table = tuple[str, list[str], list[list[Cell]]]  # title, headings, rows


def w(key: str, lang: str, **values: object) -> str:
    en, zh = WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def _when(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    if value is None:
        return "—"
    return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d %H:%M")


def _listed(items: list[ListedOut], lang: str, tz: ZoneInfo, reason: bool = False) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for i in items:
        row: list[Cell] = [i.number, i.title, i.priority, _when(i.created_at, tz), _when(i.resolved_at, tz)]
        rows.append([*row, i.reason or "—"] if reason else row)
    return rows


def tables(report: ReportSections, lang: str, timezone: str = "Asia/Shanghai") -> list[Table]:
    """The sections as tables; times in `timezone` (the organisation's)."""
    tz = ZoneInfo(timezone)
    listed_heads = [w(k, lang) for k in ("number", "title", "priority", "created", "resolved")]
    yes, no = w("yes", lang), w("no", lang)
    nodata = w("no_data", lang)
    out: list[Table] = [
        (
            w("attainment", lang),
            [
                w(k, lang)
                for k in ("indicator", "priority", "measured", "within", "percent", "target", "mean", "max")
            ],
            [
                [
                    a.indicator_label,
                    a.priority,
                    a.measured,
                    a.within_target,
                    a.percent if a.percent is not None else nodata,
                    a.target_hours,
                    a.mean_service_hours,
                    a.max_service_hours,
                ]
                for a in report.attainment
            ],
        ),
        (
            f"{w('deviations', lang)} ({w('total', lang, n=report.deviations_total)})",
            [*listed_heads, w("reason", lang)],
            _listed(report.deviations, lang, tz, reason=True),
        ),
        (
            f"{w('major_incidents', lang)} ({w('total', lang, n=report.major_incidents_total)})",
            listed_heads,
            _listed(report.major_incidents, lang, tz),
        ),
        (
            w("outages", lang),
            [w(k, lang) for k in ("start", "end", "planned", "incident")],
            [
                [_when(o.start), _when(o.end), yes if o.planned else no, o.incident or "—"]
                for o in report.outages
            ],
        ),
        (
            w("satisfaction", lang),
            [w("answers", lang), w("score", lang), *[str(k) for k in range(1, 6)]],
            [
                [
                    report.satisfaction.answers,
                    report.satisfaction.mean if report.satisfaction.mean is not None else nodata,
                    *[report.satisfaction.distribution.get(str(k), 0) for k in range(1, 6)],
                ]
            ],
        ),
        (
            w("trends", lang),
            [w(k, lang) for k in ("start", "end", "availability", "interruptions", "records", "breached")],
            [
                [
                    _when(t.start),
                    _when(t.end),
                    t.availability_percent if t.availability_percent is not None else nodata,
                    t.interruptions,
                    t.records,
                    t.breached,
                ]
                for t in report.trends
            ],
        ),
        (
            w("kpis", lang),
            [w(k, lang) for k in ("process", "indicator", "value", "unit", "formula", "source")],
            [
                [
                    PROCESSES.get(k.process, (k.process, k.process))[1 if lang == "zh" else 0],
                    k.label,
                    k.value if k.value is not None else nodata,
                    UNITS.get(k.unit, (k.unit, k.unit))[1 if lang == "zh" else 0],
                    k.formula,
                    k.source,
                ]
                for k in report.kpis
            ],
        ),
        (w("improvements", lang), listed_heads, _listed(report.improvements, lang, tz)),
    ]
    if report.notes:
        out.append((w("notes", lang), [w("notes", lang)], [[n] for n in report.notes]))
    return out
