"""The records behind a dashboard figure: the records list's filters `from`, `to` (days in the
organisation's time zone) and `kpi` (an indicator of the chosen process). The indicator is computed again
over the same period and names its records (reports/common.py `drill`); an indicator that names none
stands for every record of the process in the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api.auth import Principal
from api.problems import unprocessable
from api.services.visibility import hidden_versions
from api.web.periods import chosen_period
from reports.kpis import compute_kpis
from reports.model import Kpi, Label, Period

PAGE = 50
EXPORT_LIMIT = 10_000  # rows one download holds


@dataclass(frozen=True)
class Drill:
    period: Period
    kpi: Kpi | None  # None: only the period filters the list
    ids: list[str] | None  # the records behind the figure, newest first; None: every record

    @property
    def label(self) -> Label | None:
        return self.kpi.label if self.kpi else None


def resolve(
    session: Session,
    user: Principal,
    zone: ZoneInfo,
    *,
    definition: str | None,
    start: str | None,
    end: str | None,
    kpi: str | None,
) -> Drill | None:
    """The drill-down the filters ask for, or None without `from`, `to` or `kpi`."""
    if not (start or end or kpi):
        return None
    period, _ = chosen_period("all", start, end, zone)
    if not kpi:
        return Drill(period=period, kpi=None, ids=None)
    if not definition:
        message = "an indicator needs its process"
        raise unprocessable(message, [{"path": "definition", "message": message}], zh="指标须指明其流程")
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    if definition in hidden:
        return Drill(period=period, kpi=None, ids=[])
    report = compute_kpis(session, definition=definition, period=period, hidden=hidden)
    found = next((k for k in report.indicators if k.key == kpi), None)
    if found is None:
        message = f"no indicator {kpi!r} for this process"
        raise unprocessable(message, [{"path": "kpi", "message": message}], zh=f"该流程没有指标 {kpi!r}")
    members = found.members
    return Drill(period=period, kpi=found, ids=None if members is None else list(reversed(members)))


def page_of(ids: list[str], cursor: str | None) -> tuple[list[str], str | None]:
    """One page of the drill's records (the cursor is the offset) and the next page's cursor."""
    try:
        offset = max(0, int(cursor or 0))
    except ValueError:
        offset = 0
    more = offset + PAGE < len(ids)
    return ids[offset : offset + PAGE], str(offset + PAGE) if more else None


def day_bounds(period: Period, zone: ZoneInfo) -> tuple[str, str]:
    """The period as the `from` and `to` days of a link (the "to" day included)."""
    first = period.start.astimezone(zone).date().isoformat() if period.start else ""
    last = ""
    if period.end:
        last = (period.end.astimezone(zone) - timedelta(microseconds=1)).date().isoformat()
    return first, last
