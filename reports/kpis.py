"""Key indicators (关键指标) of a process, from the read model: the entry point of the reports package.

`compute_kpis` picks the indicator set by the process kind (incident, problem, change, release,
handover, service_level, data_access). The kind is the definition key, or its first word for a
process owner's variant (`change_emergency` → change), or given explicitly; any other process gets the
indicators every process has (volume, SLA attainment, resolution time, reopens).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from core.db import session_scope
from reports import (
    annex_b,
    assurance,
    change,
    config_audit,
    counters,
    data_access,
    evidence,
    generic,
    handover,
    incident,
    problem,
    release,
    service_level,
    service_report,
)
from reports.common import Context
from reports.data import load_facts, state_categories
from reports.model import Kpi, KpiReport, Period

Calculator = Callable[[Context, Session], list[Kpi]]

CALCULATORS: dict[str, Calculator] = {
    "incident": lambda ctx, _s: incident.compute(ctx) + annex_b.incident_extras(ctx),
    "problem": problem.compute,
    "change": change.compute,
    "release": release.compute,
    "handover": lambda ctx, _s: handover.compute(ctx),
    "service_level": lambda ctx, s: service_level.compute(ctx, s) + annex_b.service_level_extras(ctx, s),
    "data_access": lambda ctx, _s: data_access.compute(ctx),
    "config_audit": lambda ctx, s: config_audit.compute(ctx, s, datetime.now(UTC)),
    "service_report": lambda ctx, _s: service_report.compute(ctx, datetime.now(UTC)),
    "routine_operation": lambda ctx, _s: evidence.routine(ctx),
    "continuity_drill": lambda ctx, _s: evidence.drills(ctx),
    "security_incident": lambda ctx, _s: evidence.security(ctx),
    "capacity_review": lambda ctx, _s: assurance.capacity(ctx, datetime.now(UTC)),
    "supplier_review": lambda ctx, _s: assurance.supplier(ctx),
    "audit_finding": lambda ctx, _s: assurance.audit(ctx),
    "improvement": lambda ctx, _s: assurance.improvement(ctx),
    "generic": lambda ctx, _s: generic.compute(ctx),
}
ASSUMPTIONS: dict[str, list[str]] = {
    "incident": incident.ASSUMPTIONS + annex_b.ASSUMPTIONS,
    "problem": problem.ASSUMPTIONS,
    "change": change.ASSUMPTIONS,
    "release": release.ASSUMPTIONS,
    "handover": handover.ASSUMPTIONS,
    "data_access": data_access.ASSUMPTIONS,
    "config_audit": config_audit.ASSUMPTIONS,
    "service_report": service_report.ASSUMPTIONS,
    "routine_operation": evidence.ROUTINE_ASSUMPTIONS,
    "continuity_drill": evidence.DRILL_ASSUMPTIONS,
    "security_incident": evidence.SECURITY_ASSUMPTIONS,
    "capacity_review": assurance.CAPACITY_ASSUMPTIONS,
    "supplier_review": assurance.SUPPLIER_ASSUMPTIONS,
    "audit_finding": assurance.AUDIT_ASSUMPTIONS,
    "improvement": assurance.IMPROVEMENT_ASSUMPTIONS,
}
KINDS = tuple(k for k in CALCULATORS if k != "generic")


def kind_of(definition: str) -> str:
    if definition in CALCULATORS:
        return definition
    for kind in sorted(KINDS, key=len, reverse=True):  # "service_level_x" before a shorter match
        if definition.startswith(kind + "_"):
            return kind
    return "generic"


def compute_kpis(
    session: Session,
    *,
    definition: str,
    period: Period | None = None,
    kind: str | None = None,
    incident_definition: str = "incident",
    hidden: frozenset[str] = frozenset(),
) -> KpiReport:
    """The indicators of `definition` over the records created in `period`; indicators across every
    process leave out the `hidden` definitions."""
    period = period or Period()
    chosen = kind or kind_of(definition)
    if chosen not in CALCULATORS:
        raise ValueError(f"unknown indicator set '{chosen}'; one of {', '.join(sorted(CALCULATORS))}")
    facts = load_facts(session, definition=definition, period=period)
    ctx = Context(
        facts=facts,
        categories=state_categories(session, definition, facts),
        period=period,
        incident_definition=incident_definition,
        hidden=hidden,
    )
    return KpiReport(
        definition=definition,
        kind=chosen,
        period=period,
        records=len(facts),
        # Every process's own indicators, then those of the counters its definition declares.
        indicators=CALCULATORS[chosen](ctx, session)
        + counters.compute(counters.declared(session, definition), facts, period),
        assumptions=ASSUMPTIONS.get(chosen, []),
    )


def report(
    engine: Engine,
    *,
    definition: str,
    period: Period | None = None,
    kind: str | None = None,
    incident_definition: str = "incident",
) -> KpiReport:
    with session_scope(engine) as session:
        return compute_kpis(
            session, definition=definition, period=period, kind=kind, incident_definition=incident_definition
        )
