"""Incident management indicators: JR/T 0074-2012 App. B.9 (and B.1, B.3) and seed 002 §8.3.3.2."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reports.common import (
    Context,
    count,
    drill,
    first_entry,
    is_set,
    mean,
    minutes,
    ratio,
    reopens,
    resolved_at,
    sla_outcomes,
    truthy,
)
from reports.model import Facts, Kpi

SUPPORT_LEVEL = "support_level"
FIRST_LINE = "L1"
SECOND_LINE = "L2"
GROUP = "assignment_group"
CATEGORY = "category"
SOURCE = "contact_type"
PROACTIVE_SOURCES = ("monitoring",)
CI = "configuration_item"
MAJOR = "major_incident"
CLOSURE_FIELDS = ("category", "resolution_code", "resolution_notes")

ASSUMPTIONS = [
    f"support level field '{SUPPORT_LEVEL}' with first line '{FIRST_LINE}' and second line '{SECOND_LINE}'",
    f"classification field '{CATEGORY}', configuration item field '{CI}', major-incident flag '{MAJOR}'",
    f"proactive = field '{SOURCE}' in {list(PROACTIVE_SOURCES)}",
    f"record accuracy = closed incidents with {list(CLOSURE_FIELDS)} all set",
    "a reopen is a transition from a resolved/closed-category state back to new/open/waiting",
]


def _levels(f: Facts) -> list[tuple[datetime, Any]]:
    start = f.initial_fields().get(SUPPORT_LEVEL)
    out: list[tuple[datetime, Any]] = [(f.created_at, start)] if start is not None else []
    out += [(e.at, value) for e, value in f.field_changes(SUPPORT_LEVEL)]
    return out


def beyond_first_line(f: Facts) -> bool:
    values = [v for _, v in _levels(f)] + [f.fields.get(SUPPORT_LEVEL)]
    return any(v not in (None, FIRST_LINE) for v in values)


def reassigned(f: Facts) -> bool:
    """Assigned to more than one group over its life: the first assignment was not the right one."""
    groups = [f.initial_fields().get(GROUP)] + [v for _, v in f.field_changes(GROUP)]
    distinct: list[Any] = []
    for g in groups:
        if is_set(g) and (not distinct or distinct[-1] != g):
            distinct.append(g)
    return len(distinct) > 1


def ever_assigned(f: Facts) -> bool:
    return (
        is_set(f.fields.get(GROUP)) or is_set(f.initial_fields().get(GROUP)) or bool(f.field_changes(GROUP))
    )


def l2_response_minutes(f: Facts) -> float | None:
    """From reaching the second line to the first action of a person after it (acceptance)."""
    reached = next((at for at, v in _levels(f) if v == SECOND_LINE), None)
    if reached is None:
        return None
    for e in f.events:
        if e.at < reached or not e.by_person:
            continue
        changed = e.details.get("fields") or {}
        if e.action == "transition" or (e.action == "fields_changed" and "assignee" in changed):
            return minutes(reached, e.at)
    return None


def category_changed(f: Facts) -> bool:
    """Reclassified: the category, once first set, was later changed to another value."""
    values = [f.initial_fields().get(CATEGORY)] + [v for _, v in f.field_changes(CATEGORY)]
    given = [v for v in values if is_set(v)]
    return any(v != given[0] for v in given[1:])


def compute(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    total = len(facts)
    resolved = [f for f in facts if resolved_at(ctx, f) is not None]
    met, clocks, per_sla = sla_outcomes(facts)
    sla = ratio(
        "sla_attainment",
        "事件服务级别达成率",
        "Incident SLA attainment rate",
        met,
        clocks,
        formula="SLA clocks met / SLA clocks finished or breached (running clocks are not counted yet)",
        formula_zh="达成的 SLA 计时数 / 已结束或已超时的 SLA 计时数（仍在计时的暂不计入）",
        source="JR/T 0074-2012 App. B.1; 002 §8.3.3.2 a)",
        period=p,
    )
    sla.breakdown = per_sla or None
    first_line = [f for f in resolved if not beyond_first_line(f)]
    assigned = [f for f in facts if ever_assigned(f)]
    right_first = [f for f in assigned if not reassigned(f)]
    l2 = [m for m in (l2_response_minutes(f) for f in facts) if m is not None]
    durations = [minutes(f.created_at, at) for f in resolved if (at := resolved_at(ctx, f)) is not None]
    classified = [
        f for f in facts if is_set(f.initial_fields().get(CATEGORY)) or is_set(f.fields.get(CATEGORY))
    ]
    accurate = [f for f in classified if not category_changed(f)]
    at_first_line = [
        f for f in facts if f.initial_fields().get(SUPPORT_LEVEL, FIRST_LINE) in (None, FIRST_LINE)
    ]
    reopened = [f for f in facts if reopens(ctx, f)]
    fixed_first_time = [f for f in resolved if not reopens(ctx, f)]
    ever_resolved = [f for f in facts if first_entry(ctx, f, ("resolved",)) is not None]
    proactive = [f for f in resolved if str(f.fields.get(SOURCE, "")).lower() in PROACTIVE_SOURCES]
    per_ci: dict[str, int] = {}
    for f in facts:
        if is_set(f.fields.get(CI)):
            per_ci[str(f.fields[CI])] = per_ci.get(str(f.fields[CI]), 0) + 1
    repeated = sum(n - 1 for n in per_ci.values() if n > 1)
    closed = [f for f in facts if f.final]
    complete = [f for f in closed if all(is_set(f.fields.get(n)) for n in CLOSURE_FIELDS)]
    judged = [f for f in facts if any(c.get("state") in ("met", "breached") for c in f.slas())]
    return drill(
        [
            sla,
            ratio(
                "first_line_resolution_rate",
                "一线支持解决率",
                "First-line resolution rate",
                len(first_line),
                total,
                formula=f"incidents resolved without going beyond support level {FIRST_LINE} / all incidents",
                formula_zh=f"始终未超出支持级别 {FIRST_LINE} 即解决的事件数 / 全部事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            ratio(
                "first_assignment_rate",
                "工单一次分派率",
                "First-time correct assignment rate",
                len(right_first),
                len(assigned),
                formula="assigned incidents never moved to another group / assigned incidents",
                formula_zh="分派后从未转给其他支持组的事件数 / 已分派的事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            mean(
                "l2_mean_response_time",
                "二线支持平均响应时间",
                "Second-line mean response time",
                l2,
                unit="minutes",
                formula=f"Σ (first action by a person after reaching support level {SECOND_LINE}"
                f" − reaching {SECOND_LINE}) / incidents that reached {SECOND_LINE} and were taken up",
                formula_zh=f"Σ（升至支持级别 {SECOND_LINE} 后人员首次处理的时间 − 升至 {SECOND_LINE} 的时间）"
                f"/ 升至 {SECOND_LINE} 并已受理的事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            mean(
                "mean_time_to_resolve",
                "事件平均解决时间",
                "Mean time to resolve",
                durations,
                unit="minutes",
                formula="Σ (final resolution − creation) / resolved incidents",
                formula_zh="Σ（最终解决时间 − 创建时间）/ 已解决的事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            ratio(
                "classification_accuracy",
                "事件归类准确率",
                "Classification accuracy",
                len(accurate),
                len(classified),
                formula="classified incidents whose category never changed / classified incidents",
                formula_zh="分类后从未改过分类的事件数 / 已分类的事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            ratio(
                "first_line_logging_rate",
                "一线支持呼叫百分比",
                "Share of incidents logged at the first line",
                len(at_first_line),
                total,
                formula=f"incidents created at support level {FIRST_LINE} / all incidents",
                formula_zh=f"创建时支持级别为 {FIRST_LINE} 的事件数 / 全部事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            ratio(
                "first_time_fix_rate",
                "一次正确解决率",
                "First-time fix rate",
                len(fixed_first_time),
                total,
                formula="incidents resolved and never reopened / all incidents",
                formula_zh="已解决且从未重新打开的事件数 / 全部事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            ratio(
                "reopen_rate",
                "重新打开率",
                "Reopen rate",
                len(reopened),
                len(ever_resolved),
                formula="incidents reopened at least once / incidents that were ever resolved or closed",
                formula_zh="至少重新打开过一次的事件数 / 曾经解决或关闭的事件数",
                source="JR/T 0074-2012 App. B.9 (一次正确解决率)",
                period=p,
            ),
            ratio(
                "proactive_resolution_rate",
                "主动解决率",
                "Proactive resolution rate",
                len(proactive),
                total,
                formula="resolved incidents raised by monitoring / all incidents",
                formula_zh="由监控发现并已解决的事件数 / 全部事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
            count(
                "repeated_incidents",
                "重复事件数量",
                "Repeated incidents",
                repeated,
                formula="Σ over configuration items with n ≥ 2 incidents of (n − 1)",
                formula_zh="对关联 n ≥ 2 个事件的每个配置项累加 (n − 1)",
                source="JR/T 0074-2012 App. B.3",
                period=p,
            ),
            count(
                "major_incidents",
                "重大事件数量",
                "Major incidents",
                sum(1 for f in facts if truthy(f.fields.get(MAJOR))),
                formula="incidents flagged as major",
                formula_zh="标记为重大事件的事件数",
                source="002 §8.3.3.1 e)",
                period=p,
            ),
            ratio(
                "record_accuracy",
                "事件记录的准确率",
                "Incident record completeness",
                len(complete),
                len(closed),
                # CLOSURE_FIELDS in words: the keys themselves are not for readers.
                formula="closed incidents with category, resolution code and resolution notes all filled"
                " / closed incidents",
                formula_zh="分类、解决代码、解决说明均已填写的已关闭事件数 / 已关闭的事件数",
                source="002 §8.3.3.2 b)",
                period=p,
            ),
            count(
                "incidents",
                "事件总数",
                "Incidents",
                total,
                formula="incidents created in the period",
                formula_zh="本期创建的事件数",
                source="JR/T 0074-2012 App. B.9",
                period=p,
            ),
        ],
        {
            "sla_attainment": judged,
            "first_line_resolution_rate": first_line,
            "first_assignment_rate": right_first,
            "l2_mean_response_time": [f for f in facts if l2_response_minutes(f) is not None],
            "mean_time_to_resolve": resolved,
            "classification_accuracy": accurate,
            "first_line_logging_rate": at_first_line,
            "first_time_fix_rate": fixed_first_time,
            "reopen_rate": reopened,
            "proactive_resolution_rate": proactive,
            "repeated_incidents": [f for f in facts if per_ci.get(str(f.fields.get(CI)), 0) > 1],
            "major_incidents": [f for f in facts if truthy(f.fields.get(MAJOR))],
            "record_accuracy": complete,
        },
    )
