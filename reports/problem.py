"""Problem management indicators: JR/T 0074-2012 App. B.10 and seed 002 §8.3.4.2."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from reports.common import Context, count, drill, hours, is_set, mean, ratio, resolved_at, truthy
from reports.data import load_facts, naive_utc
from reports.model import Facts, Kpi

INCIDENT_PROBLEM_FIELD = "problem"
DUE_FIELDS = ("target_date", "due_date")
KNOWN_ERROR = "known_error"

ASSUMPTIONS = [
    "incidents (definition 'incident' unless given) are linked by their field '{INCIDENT_PROBLEM_FIELD}' "
    "or by a link to a problem record",
    f"a problem is on time when none of its SLA clocks breached, else when resolved by {list(DUE_FIELDS)}",
]


def _due(f: Facts) -> datetime | None:
    for name in DUE_FIELDS:
        value = f.fields.get(name)
        if isinstance(value, str) and value:
            try:
                return naive_utc(datetime.fromisoformat(value))
            except ValueError:
                continue
    return None


def on_time(ctx: Context, f: Facts) -> bool:
    done = resolved_at(ctx, f)
    if done is None:
        return False
    clocks = [c for c in f.slas() if c.get("state") in ("met", "breached")]
    if clocks:
        return all(c.get("state") == "met" for c in clocks)
    due = _due(f)
    return due is not None and done <= due


def incident_linked(f: Facts) -> bool:
    if is_set(f.fields.get(INCIDENT_PROBLEM_FIELD)):
        return True
    return any(
        str(link.get("definition", "")).startswith("problem") for link in f.snapshot.get("links") or []
    )


def compute(ctx: Context, session: Session) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    total = len(facts)
    closed = [f for f in facts if f.final]
    durations = [hours(f.created_at, at) for f in facts if (at := resolved_at(ctx, f)) is not None]
    incidents = load_facts(session, definition=ctx.incident_definition, period=p)
    unlinked = [f for f in incidents if not incident_linked(f)]
    return drill(
        [
            ratio(
                "closure_rate",
                "问题关闭率",
                "Problem closure rate",
                len(closed),
                total,
                formula="problems closed / all problems",
                formula_zh="已关闭的问题数 / 全部问题数",
                source="JR/T 0074-2012 App. B.10; 002 §8.3.4.2 a)",
                period=p,
            ),
            mean(
                "mean_resolution_time",
                "问题平均解决时间",
                "Mean problem resolution time",
                durations,
                unit="hours",
                formula="Σ (resolution − creation) / resolved problems (open ones have no resolution time)",
                formula_zh="Σ（解决时间 − 创建时间）/ 已解决的问题数（未解决的问题没有解决时长）",
                source="JR/T 0074-2012 App. B.10; 002 §8.3.4.2 b)",
                period=p,
            ),
            ratio(
                "incidents_without_problem",
                "无对应问题的事件百分比",
                "Incidents with no linked problem",
                len(unlinked),
                len(incidents),
                formula="incident records in the period not linked to a problem / those records",
                formula_zh="本期未关联问题的事件数 / 本期事件数",
                source="JR/T 0074-2012 App. B.10",
                period=p,
            ),
            ratio(
                "on_time_resolution_rate",
                "问题按时解决率",
                "On-time problem resolution rate",
                sum(1 for f in facts if on_time(ctx, f)),
                total,
                formula="problems resolved within their SLA (or by their target date) / all problems",
                formula_zh="在 SLA 内（或目标日期前）解决的问题数 / 全部问题数",
                source="JR/T 0074-2012 App. B.10",
                period=p,
            ),
            count(
                "known_errors",
                "已知错误数量",
                "Known errors recorded",
                sum(1 for f in facts if truthy(f.fields.get(KNOWN_ERROR))),
                formula="problems marked as known errors (published to the knowledge base)",
                formula_zh="标记为已知错误（已发布到知识库）的问题数",
                source="002 §8.3.4.1 d)",
                period=p,
            ),
            count(
                "problems",
                "问题总数",
                "Problems",
                total,
                formula="problems created in the period",
                formula_zh="本期创建的问题数",
                source="JR/T 0074-2012 App. B.10",
                period=p,
            ),
        ],
        {
            "closure_rate": closed,
            "mean_resolution_time": [f for f in facts if resolved_at(ctx, f) is not None],
            "on_time_resolution_rate": [f for f in facts if on_time(ctx, f)],
            "known_errors": [f for f in facts if truthy(f.fields.get(KNOWN_ERROR))],
        },
    )
