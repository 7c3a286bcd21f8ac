"""Indicators of issue 20's library processes, each with its formula and the clause it comes from:
routine operation (002 §8.4.1.2), continuity drill (002 §8.1.3.1 c, 003 §8.3) and security incident
(002 §8.7.1.2 b)."""

from __future__ import annotations

from datetime import datetime

from reports.common import Context, count, is_set, ratio
from reports.model import Facts, Kpi

ROUTINE_ASSUMPTIONS = [
    "delivered = completed, or anomaly raised / closed after one; on time = done_at at or before due_at",
    "an SOP is a distinct value of the field 'sop' among the period's records",
]
DRILL_ASSUMPTIONS = [
    "a drill is held when it reaches evaluating or closed; complete = closed with a drill_report "
    "attachment, findings and improvements",
]
SECURITY_ASSUMPTIONS = [
    "a complete handling record: severity, containment, eradication, recovery, report and reported_to set, "
    "and a report attachment",
]
SECURITY_FIELDS = ("severity", "containment", "eradication", "recovery", "report", "reported_to")


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _attached(f: Facts, kind: str) -> bool:
    return any(e.action == "attachment_added" and e.details.get("kind") == kind for e in f.events)


def routine(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    delivered = [f for f in facts if is_set(f.fields.get("done_at"))]
    on_time = [
        f
        for f in delivered
        if (done := _moment(f.fields.get("done_at")))
        and (due := _moment(f.fields.get("due_at")))
        and done <= due
    ]
    sops = {str(f.fields["sop"]) for f in facts if is_set(f.fields.get("sop"))}
    anomalies = [f for f in delivered if is_set(f.fields.get("anomaly"))]
    return [
        ratio(
            "routine_on_time_rate",
            "例行操作交付及时率",
            "Routine operations delivered on time",
            len(on_time),
            len(delivered),
            formula="delivered operations done by their due time / delivered operations",
            formula_zh="在到期时间前完成的已交付例行操作数 / 已交付的例行操作数",
            source="002 §8.4.1.2 a)",
            period=p,
        ),
        count(
            "routine_sop_count",
            "例行操作 SOP 的数量",
            "Number of routine-operation SOPs",
            len(sops),
            formula="distinct SOPs named by the period's routine operations",
            formula_zh="本期例行操作所引用的不同 SOP 数",
            source="002 §8.4.1.2 b)",
            period=p,
        ),
        count(
            "routine_anomalies",
            "例行操作发现的异常数",
            "Anomalies found by routine operations",
            len(anomalies),
            formula="delivered routine operations with a failed checklist item (each raised an incident)",
            formula_zh="检查项有未通过的已交付例行操作数（每项均已产生事件）",
            source="002 §8.4.1.1 d)",
            period=p,
        ),
    ]


def drills(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    held = [f for f in facts if f.state in ("evaluating", "closed")]
    closed = [f for f in facts if f.state == "closed"]
    complete = [
        f
        for f in closed
        if _attached(f, "drill_report")
        and is_set(f.fields.get("findings"))
        and is_set(f.fields.get("improvements"))
    ]
    by_scope = {s: float(sum(1 for f in held if f.fields.get("scope") == s)) for s in ("partial", "full")}
    return [
        count(
            "drills_held",
            "应急演练次数",
            "Drills held",
            len(held),
            formula="drills that reached evaluation or were closed, by scope"
            " (partial yearly, full every 3 years)",
            formula_zh="进入评估或已关闭的演练数，按范围统计（部分演练每年一次，全面演练每三年一次）",
            source="002 §8.1.3.1 c); 003 §8.3",
            period=p,
            breakdown=by_scope,
        ),
        count(
            "full_drills",
            "全面演练次数",
            "Full drills held",
            int(by_scope["full"]),
            formula="full-scope drills that reached evaluation or were closed"
            " (one at least every three years)",
            formula_zh="进入评估或已关闭的全面演练数（至少每三年一次）",
            source="002 §8.1.3.1 c)",
            period=p,
        ),
        ratio(
            "drill_report_completeness",
            "演练记录完整率",
            "Drill record completeness",
            len(complete),
            len(closed),
            formula="closed drills with a drill report attached, findings and improvements / closed drills",
            formula_zh="附有演练报告并记录了发现与改进的已关闭演练数 / 已关闭的演练数",
            source="002 §8.1.3.1 c), e)",
            period=p,
        ),
    ]


def security(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    closed = [f for f in facts if f.state == "closed"]
    complete = [
        f for f in closed if all(is_set(f.fields.get(n)) for n in SECURITY_FIELDS) and _attached(f, "report")
    ]
    return [
        ratio(
            "security_record_completeness",
            "信息安全事件处理过程记录完整率",
            "Security incident handling records complete",
            len(complete),
            len(closed),
            formula="closed incidents with every phase recorded and a report attached / closed incidents",
            formula_zh="各处理阶段均有记录且附有报告的已关闭安全事件数 / 已关闭的安全事件数",
            source="002 §8.7.1.2 b)",
            period=p,
        ),
        count(
            "security_incidents",
            "信息安全事件数",
            "Security incidents",
            len(facts),
            formula="security incidents reported in the period, by severity",
            formula_zh="本期报告的信息安全事件数，按严重程度统计",
            source="003 §8.6",
            period=p,
            breakdown={str(s): float(sum(1 for f in facts if f.fields.get("severity") == s)) for s in "1234"},
        ),
    ]
