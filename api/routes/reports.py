"""GET /api/v1/reports/kpis: the key indicators of a process with their formulas, computed by `reports`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Principal
from api.deps import SessionDep, require_roles
from api.problems import ProblemError, not_found, responses, unprocessable
from api.services.visibility import hidden_versions
from reports.coverage import CATALOGUE, Coverage
from reports.data import definition_known
from reports.kpis import CALCULATORS, compute_kpis, kind_of
from reports.model import KpiReport, Period, parse_instant

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

# Indicator sets that count the incidents of `incidents` too.
CROSS_PROCESS = ("change", "problem", "release")
# Indicators are management information: the people who run and own the processes read them.
Reader = Annotated[Principal, Depends(require_roles("agent", "approver", "process_owner", "admin"))]


def _bound(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise unprocessable(str(exc), [{"path": name, "message": str(exc)}]) from None


@router.get("/kpis/coverage", response_model=list[Coverage], responses=responses(401, 403))
def coverage(user: Reader) -> list[Coverage]:
    """Every indicator of JR/T 0074-2012 App. B: the indicator set and key that compute it, or why the
    records cannot (the input the product does not have), in Chinese and English."""
    return CATALOGUE


@router.get("/kpis", response_model=KpiReport, responses=responses(401, 403, 404, 422))
def kpis(
    session: SessionDep,
    user: Reader,
    definition: Annotated[
        str, Query(min_length=1, max_length=64, description="Definition key, e.g. `incident`.")
    ],
    start: Annotated[
        str | None, Query(alias="from", description="Records created from this date or date-time (UTC).")
    ] = None,
    end: Annotated[str | None, Query(alias="to", description="…and before this one (exclusive).")] = None,
    kind: Annotated[
        str | None,
        Query(description=f"Indicator set; default from the key: {', '.join(sorted(CALCULATORS))}."),
    ] = None,
    incidents: Annotated[
        str,
        Query(min_length=1, max_length=64, description="Incident definition for cross-process indicators."),
    ] = "incident",
) -> KpiReport:
    """Key indicators of a process over a period, each with its formula, numerator, denominator and source."""
    period = Period(start=_bound(start, "from"), end=_bound(end, "to"))
    if period.start and period.end and period.end <= period.start:
        raise unprocessable(
            "'to' must be after 'from'",
            [{"path": "to", "message": "must be after 'from'"}],
            zh="“to”必须晚于“from”",
        )
    if kind is not None and kind not in CALCULATORS:
        raise unprocessable(
            f"unknown indicator set '{kind}'; one of {', '.join(sorted(CALCULATORS))}",
            [{"path": "kind", "message": "unknown indicator set"}],
        )
    if (kind or kind_of(definition)) != "service_level" and not definition_known(session, definition):
        raise not_found(
            f"no definition '{definition}' and no records of it",
            zh=f"没有流程定义“{definition}”，也没有它的记录",
        )
    # Indicators count records: those of a definition whose `visibility:` does not name the caller
    # are hidden like its records (the same answer as for a definition that does not exist).
    chosen = kind or kind_of(definition)
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    for key in (definition, *([incidents] if chosen in CROSS_PROCESS else [])):
        if key in hidden:
            raise not_found(
                f"no definition '{key}' and no records of it", zh=f"没有流程定义“{key}”，也没有它的记录"
            )
    try:
        return compute_kpis(
            session,
            definition=definition,
            period=period,
            kind=kind,
            incident_definition=incidents,
            hidden=hidden,
        )
    except ValueError as exc:  # pragma: no cover - arguments are checked above
        raise ProblemError(422, str(exc), kind="InvalidRequest") from None
