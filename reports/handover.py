"""Project-to-operations handover indicators: seed 002 §8.5.1.2 and §8.5.2.2, seed 001 (提前3个月通知)."""

from __future__ import annotations

from datetime import datetime, timedelta

from reports.common import Context, drill, is_set, ratio, truthy
from reports.data import naive_utc
from reports.model import Facts, Kpi

STAKEHOLDER_FIELDS = (
    "delivery_manager",
    "receiving_manager",
    "delivery_group",
    "receiving_group",
    "stakeholders",
)
PLAN = "handover_plan"
PLAN_APPROVAL = "plan_approval"
SIGNOFF_APPROVAL = "signoff"
# 002 §8.5.2.1 b): the deliverables of the handover, each accepted by the receiving side.
DELIVERABLES = (
    "requirements_docs_accepted",
    "functional_specs_accepted",
    "om_technical_docs_accepted",
    "completion_docs_accepted",
)
TRAINING = "operator_training_done"
RECORDS = ("assets_verified", "archives_transferred")
FINISHED_STATES = ("handed_over", "closed")
PLANNED_DATE = "planned_handover_date"
NOTICE_FLAG = "notice_at_least_3_months"
NOTICE = timedelta(days=90)

ASSUMPTIONS = [
    f"stakeholders {list(STAKEHOLDER_FIELDS)}; plan '{PLAN}' agreed by the '{PLAN_APPROVAL}' approval",
    f"deliverables {list(DELIVERABLES)}; knowledge transfer = all of them and '{TRAINING}'",
    f"records complete = '{SIGNOFF_APPROVAL}' approved and {list(RECORDS)}; done = {list(FINISHED_STATES)}",
    f"notice = '{PLANNED_DATE}' − creation ≥ 90 days (or '{NOTICE_FLAG}')",
]


def approved(f: Facts, step: str) -> bool:
    return any(a.step == step and a.state == "approved" for a in f.approvals)


def notice_ok(f: Facts) -> bool:
    value = f.fields.get(PLANNED_DATE)
    if isinstance(value, str) and value:
        try:
            planned = naive_utc(datetime.fromisoformat(value))
        except ValueError:
            planned = None
        if planned is not None:
            return planned - f.created_at >= NOTICE
    return truthy(f.fields.get(NOTICE_FLAG))


def compute(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    total = len(facts)
    finished = [f for f in facts if f.state in FINISHED_STATES]
    plan_agreed = [f for f in facts if is_set(f.fields.get(PLAN)) and approved(f, PLAN_APPROVAL)]
    documents = sum(1 for f in facts for n in DELIVERABLES if truthy(f.fields.get(n)))
    transferred = [
        f
        for f in facts
        if truthy(f.fields.get(TRAINING)) and all(truthy(f.fields.get(n)) for n in DELIVERABLES)
    ]
    return drill(
        [
            ratio(
                "stakeholder_completeness",
                "相关方识别的完整性",
                "Stakeholder identification completeness",
                sum(1 for f in facts if all(is_set(f.fields.get(n)) for n in STAKEHOLDER_FIELDS)),
                total,
                # STAKEHOLDER_FIELDS in words: the keys themselves are not for readers.
                formula="handovers with the delivering and receiving managers and groups and the other"
                " stakeholders all identified / handovers",
                formula_zh="交付方与接收方负责人、交付组与接收组及其他相关方均已识别的交接数 / 交接总数",
                source="002 §8.5.1.2 a)",
                period=p,
            ),
            ratio(
                "record_completeness",
                "运维交接记录的完整性",
                "Handover record completeness",
                sum(
                    1
                    for f in finished
                    if approved(f, SIGNOFF_APPROVAL) and all(truthy(f.fields.get(n)) for n in RECORDS)
                ),
                len(finished),
                formula="handed-over handovers signed off by both sides, assets verified,"
                " archives transferred"
                " / handed-over handovers",
                formula_zh="双方已签字确认、资产已核实、档案已移交的已完成交接数 / 已完成的交接数",
                source="002 §8.5.1.2 b)",
                period=p,
            ),
            ratio(
                "plan_operability",
                "运维交接计划的可操作性",
                "Handover plan agreed",
                len(plan_agreed),
                total,
                formula="handovers with a handover plan agreed through an approval / handovers",
                formula_zh="交接计划已经审批确认的交接数 / 交接总数",
                source="002 §8.5.1.2 c)",
                period=p,
            ),
            ratio(
                "knowledge_transfer_completion",
                "知识转让完成度",
                "Knowledge transfer completion",
                len(transferred),
                total,
                formula="handovers with knowledge transfer (documents, operator training) done / handovers",
                formula_zh="已完成知识转移（文档移交、运维人员培训）的交接数 / 交接总数",
                source="002 §8.5.2.2 a)",
                period=p,
            ),
            ratio(
                "deliverable_coverage",
                "运维交接成果物的覆盖度",
                "Deliverable coverage",
                documents,
                len(DELIVERABLES) * total,
                formula=f"Σ deliverables accepted / ({len(DELIVERABLES)} deliverables × handovers)",
                formula_zh=f"已验收的交付物数之和 / （{len(DELIVERABLES)} 项交付物 × 交接数）",
                source="002 §8.5.2.2 b)",
                period=p,
            ),
            ratio(
                "advance_notice_rate",
                "提前3个月通知率",
                "Handovers notified at least 3 months ahead",
                sum(1 for f in facts if notice_ok(f)),
                total,
                formula="handovers created ≥ 90 days before the planned handover date / handovers",
                formula_zh="在计划交接日期前至少 90 天创建的交接数 / 交接总数",
                source="001 项目运维交接管理办法 (提前3个月通知)",
                period=p,
            ),
        ],
        {
            "stakeholder_completeness": [
                f for f in facts if all(is_set(f.fields.get(n)) for n in STAKEHOLDER_FIELDS)
            ],
            "plan_operability": plan_agreed,
            "knowledge_transfer_completion": transferred,
            "advance_notice_rate": [f for f in facts if notice_ok(f)],
        },
    )
