"""Data access indicators: seed 002 §8.6.1.2 (数据访问记录完整率) and §8.6.1.1 c) (access needs approval)."""

from __future__ import annotations

from reports.common import Context, count, drill, is_set, ratio
from reports.model import Facts, Kpi

RECORD_FIELDS = (
    "data_set",
    "classification",
    "access_type",
    "purpose",
    "granted_at",
    "ended_at",
    "end_reason",
)
ACCESS_STATES = ("granted", "ended", "closed")  # access was given in these states
FINISHED_STATES = ("ended", "closed")
APPROVAL = "access_approval"

ASSUMPTIONS = [
    f"a complete access record has {list(RECORD_FIELDS)} and an approved '{APPROVAL}'",
    f"access was given in {list(ACCESS_STATES)}; finished = {list(FINISHED_STATES)}",
]


def approved(f: Facts) -> bool:
    return any(a.step == APPROVAL and a.state == "approved" for a in f.approvals)


def compute(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    finished = [f for f in facts if f.state in FINISHED_STATES]
    complete = [f for f in finished if approved(f) and all(is_set(f.fields.get(n)) for n in RECORD_FIELDS)]
    unapproved = [f for f in facts if f.state in ACCESS_STATES and not approved(f)]
    return drill(
        [
            ratio(
                "access_record_completeness",
                "数据访问记录完整率",
                "Data access record completeness",
                len(complete),
                len(finished),
                formula="finished accesses with every record field and an approval / finished accesses",
                formula_zh="记录字段齐全且经过审批的已结束访问数 / 已结束的访问数",
                source="002 §8.6.1.2 a)",
                period=p,
            ),
            count(
                "access_without_approval",
                "未经审批的数据访问数量",
                "Access given without an approval",
                len(unapproved),
                formula="requests that reached granted, ended or closed without an approved access approval",
                formula_zh="未经访问审批通过即进入已授权、已结束或已关闭的申请数",
                source="002 §8.6.1.1 c)",
                period=p,
            ),
        ],
        {
            "access_record_completeness": complete,
            "access_without_approval": unapproved,
        },
    )
