"""Service level management indicators: JR/T 0074-2012 App. B.1, seed 002 §8.3.1.2, seed 004.

These look across every process: an SLA is attained or not on incidents, problems, changes alike.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.tables import RecordRow
from reports.common import Context, count, ratio
from reports.data import aware_utc
from reports.model import Kpi


def compute(ctx: Context, session: Session) -> list[Kpi]:
    p = ctx.period
    query = select(RecordRow.definition_key, RecordRow.snapshot)
    start, end = aware_utc(p.start), aware_utc(p.end)
    if ctx.hidden:
        query = query.where(col(RecordRow.definition_key).not_in(sorted(ctx.hidden)))
    if start is not None:
        query = query.where(col(RecordRow.created_at) >= start)
    if end is not None:
        query = query.where(col(RecordRow.created_at) < end)
    met = total = outside = 0
    per: dict[str, list[int]] = {}
    for key, snapshot in session.exec(query).all():
        clocks = [c for c in (snapshot or {}).get("slas") or [] if c.get("target")]
        if not clocks:
            outside += 1
        for clock in clocks:
            if clock.get("state") not in ("met", "breached"):
                continue
            bucket = per.setdefault(key, [0, 0])
            bucket[1] += 1
            total += 1
            if clock.get("state") == "met":
                met += 1
                bucket[0] += 1
    attainment = ratio(
        "sla_attainment",
        "SLA 达成率",
        "SLA attainment rate (all processes)",
        met,
        total,
        formula="SLA clocks met / SLA clocks finished or breached, all processes (breakdown: % per process)",
        source="JR/T 0074-2012 App. B.1; 002 §8.3.1.2 b)",
        period=p,
    )
    attainment.breakdown = {k: round(100.0 * m / t, 2) for k, (m, t) in sorted(per.items()) if t} or None
    return [
        attainment,
        count(
            "services_outside_sla",
            "SLA 之外的服务数量",
            "Services delivered outside any SLA",
            outside,
            formula="records of the period with no SLA target applying to them",
            source="JR/T 0074-2012 App. B.1",
            period=p,
        ),
        count(
            "agreements",
            "服务级别协议数量",
            "Service level agreements recorded",
            len(ctx.facts),
            formula="service-level records created in the period",
            source="seed 004",
            period=p,
        ),
    ]
