"""Service level management indicators: JR/T 0074-2012 App. B.1, seed 002 §8.3.1.2, seed 004.

These look across every process: an SLA is attained or not on incidents, problems, changes alike.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from cmdb.tables import CiRow
from core.tables import RecordRow
from reports.common import Context, count, ratio
from reports.data import aware_utc
from reports.model import Kpi
from sla.coverage import services_outside


def _service_names(session: Session, services: set[str]) -> set[str]:
    """A `ci` field holds the CI's id; agreements name the business service CI by its name."""
    ids = [int(s) for s in services if s.isdigit()]
    names = {str(ci.id): ci.name for ci in session.exec(select(CiRow).where(col(CiRow.id).in_(ids))).all()}
    return {names.get(s, s) for s in services}


def compute(ctx: Context, session: Session) -> list[Kpi]:
    p = ctx.period
    query = select(RecordRow.definition_key, RecordRow.snapshot, RecordRow.fields)
    start, end = aware_utc(p.start), aware_utc(p.end)
    if ctx.hidden:
        query = query.where(col(RecordRow.definition_key).not_in(sorted(ctx.hidden)))
    if start is not None:
        query = query.where(col(RecordRow.created_at) >= start)
    if end is not None:
        query = query.where(col(RecordRow.created_at) < end)
    met = total = 0
    per: dict[str, list[int]] = {}
    services: set[str] = set()
    for key, snapshot, fields in session.exec(query).all():
        clocks = [c for c in (snapshot or {}).get("slas") or [] if c.get("target")]
        service = (fields or {}).get("service")
        if service not in (None, ""):
            services.add(str(service))
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
        formula_zh="达成的 SLA 计时数 / 已结束或已超时的 SLA 计时数，涵盖所有流程（细分：各流程的百分比）",
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
            len(services_outside(session, _service_names(session, services), start, end)),
            formula="distinct services named by the period's records (their service: a business"
            " service CI or a name) that no service level agreement valid during the period covers;"
            " 0 with a default agreement",
            formula_zh="本期记录所涉及的服务（业务服务配置项或服务名称）中，没有任何本期有效的服务级别协议"
            "覆盖的服务数（去重）；有默认协议时为 0",
            source="JR/T 0074-2012 App. B.1",
            period=p,
        ),
        count(
            "agreements",
            "服务级别协议数量",
            "Service level agreements recorded",
            len(ctx.facts),
            formula="service-level records created in the period",
            formula_zh="本期创建的服务级别记录数",
            source="seed 004",
            period=p,
        ),
    ]
