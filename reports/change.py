"""Change management indicators: JR/T 0074-2012 App. B.11 (变更管理绩效指标) and seed 002 §8.3.6.2."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from reports.common import Context, count, drill, is_set, ratio
from reports.data import count_linked, naive_utc
from reports.model import Facts, Kpi

TYPE = "change_type"
STANDARD = ("standard",)
EMERGENCY = ("emergency",)
OUTCOME = "outcome"
SUCCESS = ("successful", "success", "succeeded")
IMPLEMENTATION_STATES = ("implementing",)
CANCELLED_STATES = ("cancelled", "canceled", "withdrawn")
REJECTED_STATES = ("rejected",)
PLANNED_END = "planned_end"
CAUSED_BY = "caused_by_change"

ASSUMPTIONS = [
    f"type field '{TYPE}' (standard = {list(STANDARD)}, emergency = {list(EMERGENCY)})",
    f"result field '{OUTCOME}' with success values {list(SUCCESS)}",
    f"implementation states {list(IMPLEMENTATION_STATES)}, cancelled {list(CANCELLED_STATES)}, "
    f"rejected {list(REJECTED_STATES)}; planned window end '{PLANNED_END}'",
    f"change-caused incidents: incident records with '{CAUSED_BY}' set",
]


def implementation_entries(f: Facts) -> list[datetime]:
    return [e.at for e in f.transitions() if e.to_state in IMPLEMENTATION_STATES]


def implemented(f: Facts) -> bool:
    outcome = str(f.fields.get(OUTCOME, "")).lower()
    return bool(implementation_entries(f)) or (is_set(outcome) and outcome not in CANCELLED_STATES)


def succeeded(f: Facts) -> bool:
    return str(f.fields.get(OUTCOME, "")).lower() in SUCCESS


def unauthorised(f: Facts) -> bool:
    """Implemented without an approval granted before implementation began (standard changes are
    pre-approved and never count)."""
    entries = implementation_entries(f)
    if not entries or str(f.fields.get(TYPE, "")).lower() in STANDARD:
        return False
    began = entries[0]
    return not any(
        a.state == "approved" and a.closed_at is not None and a.closed_at <= began for a in f.approvals
    )


def implementation_finished(f: Facts) -> datetime | None:
    inside = False
    for e in f.transitions():
        if e.to_state in IMPLEMENTATION_STATES:
            inside = True
        elif inside and e.from_state in IMPLEMENTATION_STATES:
            return e.at
    return None


def on_time(f: Facts) -> bool:
    done = implementation_finished(f)
    planned = f.fields.get(PLANNED_END)
    if done is None or not isinstance(planned, str) or not planned:
        return False
    try:
        end = naive_utc(datetime.fromisoformat(planned))
    except ValueError:
        return False
    return end is not None and done <= end


def approval_passed(f: Facts) -> bool | None:
    """None when the change never had a decided approval."""
    decided = [a for a in f.approvals if a.state in ("approved", "rejected")]
    if not decided:
        return None
    return decided[-1].state == "approved" and not any(a.state == "rejected" for a in decided)


def compute(ctx: Context, session: Session) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    total = len(facts)
    done = [f for f in facts if implemented(f)]
    good = [f for f in done if succeeded(f)]
    first_time = [f for f in good if len(implementation_entries(f)) <= 1]
    by_type: dict[str, float] = {}
    for f in facts:
        key = str(f.fields.get(TYPE) or "unspecified")
        by_type[key] = by_type.get(key, 0) + 1
    cancelled = [f for f in facts if f.final and f.state in CANCELLED_STATES]
    rejected = [f for f in facts if f.final and f.state in REJECTED_STATES]
    emergency = [f for f in facts if str(f.fields.get(TYPE, "")).lower() in EMERGENCY]
    caused, _ = count_linked(session, definition=ctx.incident_definition, period=p, field=CAUSED_BY)
    decisions = [r for r in (approval_passed(f) for f in facts) if r is not None]
    type_kpi = count(
        "changes_by_type",
        "不同类型的变更数量",
        "Changes by type",
        total,
        formula="changes per change type (breakdown); share = count / all changes",
        formula_zh="按变更类型统计的变更数（细分）；占比 = 该类型变更数 / 全部变更数",
        source="002 §8.3.6.2 b)",
        period=p,
        breakdown=dict(sorted(by_type.items())),
    )
    return drill(
        [
            ratio(
                "success_rate",
                "变更成功率",
                "Change success rate",
                len(good),
                len(done),
                formula="implemented changes whose outcome was successful / implemented changes",
                formula_zh="实施结果为成功的已实施变更数 / 已实施的变更数",
                source="002 §8.3.6.2 a)",
                period=p,
            ),
            ratio(
                "first_time_success_rate",
                "变更一次成功率",
                "First-time change success rate",
                len(first_time),
                total,
                formula="changes successful at their first implementation attempt / all changes",
                formula_zh="首次实施即成功的变更数 / 全部变更数",
                source="JR/T 0074-2012 App. B.11",
                period=p,
            ),
            type_kpi,
            count(
                "unauthorised_changes",
                "未授权变更数",
                "Unauthorised changes",
                sum(1 for f in facts if unauthorised(f)),
                formula="non-standard changes that entered implementation without an approval granted before",
                formula_zh="未事先获得批准即进入实施的非标准变更数",
                source="JR/T 0074-2012 App. B.11; 002 §8.3.6.2 c)",
                period=p,
            ),
            ratio(
                "rejected_change_share",
                "未经批准的变更占比",
                "Share of changes not approved",
                len(rejected),
                total,
                formula="changes ended as rejected / all changes",
                formula_zh="以驳回结束的变更数 / 全部变更数",
                source="002 §8.3.6.2 c)",
                period=p,
            ),
            ratio(
                "cancelled_change_share",
                "取消的变更占比",
                "Share of cancelled changes",
                len(cancelled),
                total,
                formula="changes ended as cancelled / all changes",
                formula_zh="以取消结束的变更数 / 全部变更数",
                source="002 §8.3.6.2 c)",
                period=p,
            ),
            ratio(
                "change_incident_rate",
                "变更事故发生率",
                "Change-caused incident rate",
                caused,
                total,
                formula="incident records in the period marked as caused by a change / changes",
                formula_zh="本期标记为由变更引起的事件数 / 变更总数",
                source="JR/T 0074-2012 App. B.11",
                period=p,
            ),
            ratio(
                "approval_pass_rate",
                "变更请求通过率",
                "Change approval pass rate",
                sum(decisions),
                len(decisions),
                formula="changes whose approval was granted (never rejected)"
                " / changes with a decided approval",
                formula_zh="审批通过（从未被驳回）的变更数 / 审批已有结论的变更数",
                source="JR/T 0074-2012 App. B.11",
                period=p,
            ),
            ratio(
                "on_time_implementation_rate",
                "变更实施准时率",
                "On-time implementation rate",
                sum(1 for f in done if on_time(f)),
                len(done),
                formula="implemented changes that left implementation by the planned end"
                " / implemented changes",
                formula_zh="在计划结束时间前完成实施的已实施变更数 / 已实施的变更数",
                source="JR/T 0074-2012 App. B.11",
                period=p,
            ),
            count(
                "emergency_changes",
                "紧急变更数",
                "Emergency changes",
                len(emergency),
                formula="changes of the emergency change type",
                formula_zh="变更类型为紧急变更的变更数",
                source="JR/T 0074-2012 App. B.11",
                period=p,
            ),
            count(
                "cancelled_changes",
                "取消的变更数量",
                "Cancelled changes",
                len(cancelled),
                formula="changes ended as cancelled",
                formula_zh="以取消结束的变更数",
                source="002 §8.3.6.2 c)",
                period=p,
            ),
        ],
        {
            "success_rate": good,
            "first_time_success_rate": first_time,
            "unauthorised_changes": [f for f in facts if unauthorised(f)],
            "rejected_change_share": rejected,
            "cancelled_change_share": cancelled,
            "approval_pass_rate": [f for f in facts if approval_passed(f)],
            "on_time_implementation_rate": [f for f in done if on_time(f)],
            "emergency_changes": emergency,
            "cancelled_changes": cancelled,
        },
    )
