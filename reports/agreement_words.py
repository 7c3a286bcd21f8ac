"""The words of the service report's XLSX and PDF renderings, in English and Chinese."""

from __future__ import annotations

from datetime import datetime, tzinfo

from reports.model import Label

WORDS: dict[str, tuple[str, str]] = {
    "report": ("Service report", "服务报告"),
    "summary": ("Summary", "概要"),
    "availability": ("Availability", "可用性"),
    "availability_continuity": ("Availability and continuity", "可用性与连续性"),
    "attainment": ("Attainment", "达成率"),
    "attainment_title": ("Service level attainment per indicator", "服务级别达成率（按指标）"),
    "deviations": ("Deviations", "偏差"),
    "deviations_title": ("Deviations and their reasons", "偏差及原因"),
    "major": ("Major incidents", "重大事件"),
    "kpis": ("KPIs", "关键指标"),
    "kpis_title": ("Key indicators of each process", "各流程关键指标"),
    "satisfaction": ("Satisfaction", "满意度"),
    "satisfaction_title": ("Customer satisfaction", "客户满意度"),
    "trends": ("Trends", "趋势"),
    "trends_title": ("Trends against the previous periods", "趋势（与此前各期比较）"),
    "improvements": ("Improvements", "改进项"),
    "improvements_title": ("Improvement items", "改进项"),
    "agreement": ("Agreement", "服务级别协议"),
    "service": ("Service", "服务"),
    "period": ("Period", "期间"),
    "version": ("Version", "版本"),
    "figure": ("Figure", "指标"),
    "value": ("Value", "数值"),
    "committed": ("Committed service time (h)", "承诺服务时间（小时）"),
    "unavailable": ("Unavailable time (h)", "不可用时间（小时）"),
    "percent": ("Availability (%)", "可用率（%）"),
    "target": ("Availability target (%)", "可用率目标（%）"),
    "interruptions": ("Interruptions", "中断次数"),
    "max_interruptions": ("Maximum interruptions", "最大中断次数"),
    "mtbf": ("MTBF (h)", "平均故障间隔（小时）"),
    "longest": ("Longest unplanned outage (h)", "最长非计划中断（小时）"),
    "planned_outages": ("Planned outages", "计划停机次数"),
    "met": ("Target met", "是否达标"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "no_data": ("no data", "无数据"),
    "start": ("Start", "开始"),
    "end": ("End", "结束"),
    "planned": ("Planned", "计划内"),
    "incident": ("Incident", "事件"),
    "hours": ("Hours", "小时"),
    "indicator": ("Indicator", "指标"),
    "met_count": ("Met", "达成"),
    "breached_count": ("Breached", "未达成"),
    "running": ("Still running", "进行中"),
    "attained": ("Attainment (%)", "达成率（%）"),
    "number": ("Number", "编号"),
    "title": ("Title", "标题"),
    "priority": ("Priority", "优先级"),
    "state": ("State", "状态"),
    "created": ("Created", "创建时间"),
    "resolved_at": ("Resolved", "解决时间"),
    "clocks": ("Clocks breached", "超时的时限"),
    "reason": ("Reason", "原因"),
    "total": ("Total", "总数"),
    "listed": ("listed", "已列出"),
    "process": ("Process", "流程"),
    "records": ("Records", "记录数"),
    "numerator": ("Numerator", "分子"),
    "denominator": ("Denominator", "分母"),
    "unit": ("Unit", "单位"),
    "source": ("Source", "出处"),
    "score": ("Score", "评分"),
    "responses": ("Scores given", "评分数"),
    "mean_score": ("Mean score", "平均分"),
    "satisfied": ("Satisfied (4–5) (%)", "满意（4–5 分）占比（%）"),
    "breached_records": ("Breached records", "超时记录数"),
    "mean_resolution": ("Mean resolution (h)", "平均解决时间（小时）"),
    "max_resolution": ("Maximum resolution (h)", "最长解决时间（小时）"),
    "resolution_target": ("Resolution target (h)", "解决目标（小时）"),
    "resolved": ("Resolved", "已解决"),
    "trend_attainment": ("Attainment (%)", "达成率（%）"),
    "trend_availability": ("Availability (%)", "可用率（%）"),
    "trend_satisfaction": ("Mean satisfaction", "平均满意度"),
    "notes": ("Notes", "说明"),
    "percent_unit": ("%", "%"),
    "count_unit": ("count", "个"),
    "minutes_unit": ("minutes", "分钟"),
    "hours_unit": ("hours", "小时"),
    "days_unit": ("days", "天"),
    "resolution_chart": ("Resolution time against target (h)", "解决时间与目标（小时）"),
}


def word(key: str, lang: str) -> str:
    en, zh = WORDS[key]
    return zh if lang == "zh" else en


def text(label: Label | dict[str, str] | None, lang: str, default: str = "") -> str:
    if label is None:
        return default
    if isinstance(label, dict):
        return label.get(lang) or label.get("en") or default
    return label.zh if lang == "zh" else label.en


def shown(value: float | int | None, lang: str) -> str:
    """A figure for people: "no data" (无数据) where there is nothing to compute from, never 0 %."""
    if value is None:
        return word("no_data", lang)
    return f"{value:g}" if isinstance(value, float) else str(value)


def local(value: datetime | None, zone: tzinfo | None) -> datetime | None:
    """A time in the report's time zone (the zone its period was given in), without the zone: what a
    spreadsheet cell can hold."""
    if value is None:
        return None
    return value.astimezone(zone).replace(tzinfo=None)
