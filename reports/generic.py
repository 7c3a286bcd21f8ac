"""Indicators every process has, whatever its kind: volume, SLA attainment, resolution time, reopens."""

from __future__ import annotations

from reports.common import Context, count, drill, hours, mean, ratio, reopens, resolved_at, sla_outcomes
from reports.model import Kpi


def compute(ctx: Context) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    met, clocks, per_sla = sla_outcomes(facts)
    sla = ratio(
        "sla_attainment",
        "SLA 达成率",
        "SLA attainment rate",
        met,
        clocks,
        formula="SLA clocks met / SLA clocks finished or breached",
        formula_zh="达成的 SLA 计时数 / 已结束或已超时的 SLA 计时数",
        source="JR/T 0074-2012 App. B.1",
        period=p,
    )
    sla.breakdown = per_sla or None
    durations = [hours(f.created_at, at) for f in facts if (at := resolved_at(ctx, f)) is not None]
    by_category: dict[str, float] = {}
    for f in facts:
        by_category[f.state_category] = by_category.get(f.state_category, 0) + 1
    return drill(
        [
            count(
                "records",
                "记录总数",
                "Records",
                len(facts),
                formula="records created in the period (breakdown: by current state category)",
                formula_zh="本期创建的记录数（按当前状态类别细分）",
                source="002 §6.2",
                period=p,
                breakdown=dict(sorted(by_category.items())),
            ),
            sla,
            mean(
                "mean_time_to_resolve",
                "平均解决时间",
                "Mean time to resolve",
                durations,
                unit="hours",
                formula="Σ (final resolution − creation) / resolved records",
                formula_zh="Σ（最终解决时间 − 创建时间）/ 已解决的记录数",
                source="seed 004 (平均解决时间)",
                period=p,
            ),
            ratio(
                "reopen_rate",
                "重新打开率",
                "Reopen rate",
                sum(1 for f in facts if reopens(ctx, f)),
                len(facts),
                formula="records reopened at least once / all records",
                formula_zh="至少重新打开过一次的记录数 / 全部记录数",
                source="JR/T 0074-2012 App. B.9 (一次正确解决率)",
                period=p,
            ),
        ],
        {
            "sla_attainment": [
                f for f in facts if any(c.get("state") in ("met", "breached") for c in f.slas())
            ],
            "mean_time_to_resolve": [f for f in facts if resolved_at(ctx, f) is not None],
            "reopen_rate": [f for f in facts if reopens(ctx, f)],
        },
    )
