"""Indicators of issue 20's assurance processes, each with its formula and the clause it comes from:
capacity review (002 §8.3.8.2), supplier review (002 §8.8.2, 003 §9.2), audit finding (002 §10.1.2,
§9.3.2) and improvement (002 §10.2.2, 003 App. B.1)."""

from __future__ import annotations

from datetime import datetime

from reports.common import Context, count, is_set, ratio
from reports.model import Facts, Kpi

CAPACITY_ASSUMPTIONS = [
    "a report is due when due_at has passed or it was submitted; on time = submitted_at at or before due_at"
]
SUPPLIER_ASSUMPTIONS = ["an assessment is complete when it left 'assessing'; findings = reached 'follow_up'"]
AUDIT_ASSUMPTIONS = [
    "corrected = closed; effective at the first verification = closed without a 'reject' transition",
    "compliance risk events = findings whose source is compliance_check",
]
IMPROVEMENT_ASSUMPTIONS = [
    "planned = approved (left 'review' by 'approve'); completed = closed; items handled = closed",
]


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _fired(f: Facts, trigger: str) -> bool:
    return any(e.details.get("trigger") == trigger for e in f.transitions())


def capacity(ctx: Context, now: datetime) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    due = [
        f
        for f in facts
        if is_set(f.fields.get("submitted_at")) or ((d := _moment(f.fields.get("due_at"))) and d <= now)
    ]
    on_time = [
        f
        for f in due
        if (s := _moment(f.fields.get("submitted_at"))) and (d := _moment(f.fields.get("due_at"))) and s <= d
    ]
    return [
        ratio(
            "capacity_report_submission_rate",
            "容量管理报告提交率",
            "Capacity reports submitted on time",
            len(on_time),
            len(due),
            formula="reviews whose report was submitted by its due time / reviews due",
            formula_zh="在到期时间前提交报告的评审数 / 已到期的评审数",
            source="002 §8.3.8.2 b)",
            period=p,
        )
    ]


def supplier(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    done = [f for f in facts if f.state in ("follow_up", "closed")]
    findings = [
        f for f in done if _fired(f, "conclude") and any(e.to_state == "follow_up" for e in f.transitions())
    ]
    return [
        count(
            "supplier_assessments",
            "供方考核完成数",
            "Supplier assessments completed",
            len(done),
            formula="supplier reviews concluded (every item answered, the service report attached)",
            formula_zh="已完成的供方考核数（各项均已作答并附有服务报告）",
            source="002 §8.8.2; 003 §9.2",
            period=p,
        ),
        count(
            "supplier_findings",
            "存在整改项的供方评价数",
            "Supplier reviews with findings",
            len(findings),
            formula="concluded reviews with a failed assessment item (follow-up required)",
            formula_zh="有未通过考核项（需整改跟进）的已完成供方考核数",
            source="002 §8.8.1 e)",
            period=p,
        ),
    ]


def audit(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    closed = [f for f in facts if f.state == "closed"]
    first_time = [f for f in closed if not _fired(f, "reject")]
    return [
        ratio(
            "nonconformity_correction_rate",
            "不符合纠正完成率",
            "Nonconformities corrected",
            len(closed),
            len(facts),
            formula="findings closed after verification / findings recorded",
            formula_zh="验证后关闭的不符合项数 / 已记录的不符合项数",
            source="002 §10.1.2 a)",
            period=p,
        ),
        ratio(
            "nonconformity_correction_effectiveness",
            "不符合纠正有效度",
            "Corrections effective at the first verification",
            len(first_time),
            len(closed),
            formula="closed findings never rejected at verification / closed findings",
            formula_zh="验证时从未被驳回的已关闭不符合项数 / 已关闭的不符合项数",
            source="002 §10.1.2 b)",
            period=p,
        ),
        count(
            "compliance_risk_events",
            "合规风险事件数量",
            "Compliance risk events",
            sum(1 for f in facts if f.fields.get("source") == "compliance_check"),
            formula="findings of compliance self-checks",
            formula_zh="合规自查发现的不符合项数",
            source="002 §9.3.2 b)",
            period=p,
        ),
    ]


def improvement(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    planned = [f for f in facts if _fired(f, "approve")]
    closed = [f for f in planned if f.state == "closed"]
    return [
        ratio(
            "improvement_plan_completion",
            "持续改进计划完成度",
            "Improvement plan completion",
            len(closed),
            len(planned),
            formula="approved improvements closed after evaluation / approved improvements",
            formula_zh="经评价后关闭的已批准改进项数 / 已批准的改进项数",
            source="002 §10.2.2 a)",
            period=p,
        ),
        count(
            "improvement_items",
            "通过服务改进计划识别并处理的改进项目数量",
            "Improvement items identified and handled",
            len(closed),
            formula="improvements closed (the improvement register), by kind",
            formula_zh="已关闭的改进项数（改进登记册），按类型统计",
            source="003 App. B.1",
            period=p,
            breakdown={
                k: float(sum(1 for f in closed if f.fields.get("kind") == k))
                for k in ("optimisation", "assessment", "process")
            },
        ),
    ]
