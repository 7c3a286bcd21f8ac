"""The dashboard: a process's key indicators over a period, as numbers and server-drawn SVG bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.problems import unprocessable
from api.services import definitions as defs
from api.services.visibility import hidden_versions
from api.web import i18n
from api.web.common import PageRoute, ReportPage, render
from definitions.model import StateCategory
from reports.kpis import compute_kpis
from reports.model import Kpi, Period, parse_instant

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PRESETS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
CATEGORIES: frozenset[str] = frozenset(get_args(StateCategory))


@dataclass
class Bar:
    label: str
    value: float
    width: float  # percent of the chart's width
    y: int


def bars(breakdown: dict[str, float] | None, lang: str = "en", row: int = 26) -> list[Bar]:
    if not breakdown:
        return []
    top = max(breakdown.values()) or 1.0
    # A breakdown by state category (new, open, …) is shown in the reader's language; other keys
    # (SLA names, change types) are the definition's own words.
    by_category = set(breakdown) <= CATEGORIES
    return [
        Bar(
            label=i18n.translate(lang, f"category.{k}") if by_category else k,
            value=v,
            width=max(0.5, 100.0 * v / top),
            y=i * row,
        )
        for i, (k, v) in enumerate(sorted(breakdown.items(), key=lambda kv: -kv[1]))
    ]


def shown(kpi: Kpi) -> str:
    if kpi.value is None:
        return "—"
    if kpi.unit == "percent":
        return f"{kpi.value:.1f}%"
    if kpi.unit == "count":
        return f"{kpi.value:,.0f}"
    return f"{kpi.value:,.1f}"


def number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _period(preset: str, start: str | None, end: str | None) -> tuple[Period, str]:
    if start or end:
        try:
            return Period(
                start=parse_instant(start) if start else None, end=parse_instant(end) if end else None
            ), ""
        except ValueError as exc:
            raise unprocessable(str(exc), [{"path": "from/to", "message": str(exc)}]) from None
    if preset == "all":
        return Period(), "all"
    days = PRESETS.get(preset, 30)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(start=today - timedelta(days=days - 1), end=today + timedelta(days=1)), (
        preset if preset in PRESETS else "30d"
    )


@router.get("/ui/dashboard")
def dashboard(
    request: Request,
    user: ReportPage,
    session: SessionDep,
    definition: Annotated[str | None, Query(max_length=64)] = None,
    preset: Annotated[str, Query(max_length=8)] = "30d",
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Response:
    # A definition whose `visibility:` does not name the reader shows no indicators (api/routes/reports.py).
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    items = [i for i in defs.list_definitions(session) if i.key not in hidden]
    keys = [i.key for i in items]
    chosen = definition if definition in keys else (keys[0] if keys else None)
    period, preset_used = _period(preset, start or None, end or None)
    report = compute_kpis(session, definition=chosen, period=period, hidden=hidden) if chosen else None
    return render(
        request,
        "dashboard.html",
        user,
        items=items,
        chosen=chosen,
        report=report,
        preset=preset_used,
        start=start or "",
        end=end or "",
        presets=list(PRESETS) + ["all"],
        bars=bars,
        shown=shown,
        num=number,
    )
