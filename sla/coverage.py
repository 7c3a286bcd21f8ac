"""Which services were delivered outside any agreement in a period: what JR/T 0074-2012 App. B.1's
"SLA 之外的服务数量" counts (the KPI `services_outside_sla`). A service is covered when an agreement in
force for it (or the default agreement, service "*") was valid on some day of the period; an agreement
limited to some requesters' groups still covers its service."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from sla.agreements import DEFAULT_SERVICE
from sla.model import AgreementSpec
from sla.tables import AgreementRow


def _valid_during(spec: AgreementSpec, start: date | None, end: date | None) -> bool:
    if end is not None and spec.valid_from > end:
        return False
    return not (start is not None and spec.valid_to is not None and spec.valid_to < start)


def services_outside(
    session: Session, services: set[str], start: datetime | None, end: datetime | None
) -> set[str]:
    """The services of `services` that no agreement covered during [start, end) (open ends unbounded)."""
    first = start.date() if start is not None else None
    last = end.date() if end is not None else None  # an end at midnight still touches that day: harmless
    covered: set[str] = set()
    for row in session.exec(select(AgreementRow).where(AgreementRow.status == "active")).all():
        if _valid_during(AgreementSpec.model_validate(row.spec), first, last):
            covered.add(row.service)
    if DEFAULT_SERVICE in covered:
        return set()
    return services - covered
