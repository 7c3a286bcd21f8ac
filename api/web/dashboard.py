"""The dashboard: a process's key indicators over a period, as numbers and server-drawn SVG bars, each
figure a link to the records behind it (api/web/drill.py), "no data" where there is nothing to compute
from, the trend over the previous months (or weeks) with a sparkline, and the tables as CSV or XLSX.
Periods are days of the organisation's time zone (api/web/periods.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.auth import Principal
from api.deps import SessionDep
from api.schemas import DefinitionListItem
from api.services import definitions as defs
from api.services.visibility import hidden_versions
from api.web import exports, forms, i18n
from api.web.common import PageRoute, ReportPage, render
from api.web.drill import day_bounds
from api.web.periods import PRESETS, TrendPeriod, chosen_period, org_zone, trend_periods
from definitions.model import Definition, StateCategory
from reports.kpis import compute_kpis
from reports.model import Kpi, KpiReport, Period

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CATEGORIES: frozenset[str] = frozenset(get_args(StateCategory))


@dataclass
class Bar:
    label: str
    value: float
    width: float  # percent of the chart's width
    y: int


def bars(
    breakdown: dict[str, float] | None,
    lang: str = "en",
    row: int = 26,
    words: dict[str, str] | None = None,
) -> list[Bar]:
    if not breakdown:
        return []
    top = max(breakdown.values()) or 1.0
    # A breakdown by state category (new, open, …) is shown in the reader's language; other keys
    # (SLA names, change types, states) by the labels the definition gives them (`words`).
    by_category = set(breakdown) <= CATEGORIES
    return [
        Bar(
            label=i18n.translate(lang, f"category.{k}") if by_category else (words or {}).get(k, k),
            value=v,
            width=max(0.5, 100.0 * v / top),
            y=i * row,
        )
        for i, (k, v) in enumerate(sorted(breakdown.items(), key=lambda kv: -kv[1]))
    ]


def breakdown_words(d: Definition | None, lang: str) -> dict[str, str]:
    """The definition's words for what a breakdown counts by: option values, SLA clocks, states."""
    if d is None:
        return {}
    words: dict[str, str] = {}
    for f in d.fields:
        for value, label in (f.value_labels or {}).items():
            words.setdefault(value, i18n.pick(label, lang, value))
    words.update({s.name: i18n.pick(s.label, lang, s.name) for s in d.slas})
    words.update({s.name: i18n.pick(s.label, lang, s.name) for s in d.states})
    return words


def shown(kpi: Kpi | None, lang: str = "en") -> str:
    """A figure for people: "no data" where there is nothing to compute from, never 0 %."""
    if kpi is None or kpi.value is None:
        return i18n.translate(lang, "dash.no_data_short")
    if kpi.unit == "percent":
        return f"{kpi.value:.1f}%"
    if kpi.unit == "count":
        return f"{kpi.value:,.0f}"
    return f"{kpi.value:,.1f}"


def number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@dataclass
class Trend:
    periods: list[TrendPeriod]
    reports: list[KpiReport]

    def of(self, key: str) -> list[Kpi | None]:
        return [next((k for k in r.indicators if k.key == key), None) for r in self.reports]

    def spark(self, key: str, width: int = 120, height: int = 24) -> str:
        """An SVG polyline's points for the indicator over the periods (gaps where there is no data)."""
        values = [k.value if k is not None else None for k in self.of(key)]
        known = [v for v in values if v is not None]
        if len(known) < 2:
            return ""
        low, high = min(known), max(known)
        step = width / max(1, len(values) - 1)
        span = (high - low) or 1.0
        return " ".join(
            f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
            for i, v in enumerate(values)
            if v is not None
        )


def _nodata(report: KpiReport) -> KpiReport:
    """A period without records has no figures: its zero counts read "no data" too (ratios and means
    are None already when nothing was measured)."""
    if report.records == 0:
        for k in report.indicators:
            if k.unit == "count" and not k.value:
                k.value = None
    return report


def _reports(
    session: Session, user: Principal, definition: str | None, period: Period, periods: list[TrendPeriod]
) -> tuple[KpiReport | None, Trend, frozenset[str]]:
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    if not definition:
        return None, Trend(periods, []), hidden
    report = _nodata(compute_kpis(session, definition=definition, period=period, hidden=hidden))
    trend = [
        _nodata(
            compute_kpis(
                session, definition=definition, period=Period(start=p.start, end=p.end), hidden=hidden
            )
        )
        for p in periods
    ]
    return report, Trend(periods, trend), hidden


def _chosen(
    session: Session, user: Principal, definition: str | None
) -> tuple[list[DefinitionListItem], str | None]:
    # A definition whose `visibility:` does not name the reader shows no indicators (api/routes/reports.py).
    hidden = frozenset(k for k, _v in hidden_versions(session, user))
    items = [i for i in defs.list_definitions(session) if i.key not in hidden]
    keys = [i.key for i in items]
    return items, definition if definition in keys else (keys[0] if keys else None)


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
    zone = org_zone(request)
    lang = i18n.language(request, user.language)
    items, chosen = _chosen(session, user, definition)
    period, preset_used = chosen_period(preset, start or None, end or None, zone)
    periods = trend_periods(period, preset_used, zone)
    report, trend, _hidden = _reports(session, user, chosen, period, periods)
    first, last = day_bounds(period, zone)

    def drill(key: str, p: Period | TrendPeriod | None = None) -> str:
        """The records list behind a figure of this period (or of a trend period)."""
        lo, hi = (first, last) if p is None else day_bounds(Period(start=p.start, end=p.end), zone)
        query = {"definition": chosen or "", "from": lo, "to": hi, "kpi": key}  # an empty key: every record
        return "/ui/records?" + urlencode({k: v for k, v in query.items() if v})

    words = breakdown_words(forms.definition(session, chosen) if chosen else None, lang)
    here = {"definition": chosen or "", "preset": preset_used, "from": start or "", "to": end or ""}
    return render(
        request,
        "dashboard.html",
        user,
        items=items,
        chosen=chosen,
        report=report,
        trend=trend,
        preset=preset_used,
        start=start or "",
        end=end or "",
        presets=list(PRESETS) + ["all"],
        bars=partial(bars, words=words),
        shown=lambda k: shown(k, lang),
        num=number,
        drill=drill,
        records_link=drill(""),
        zone=str(zone),
        first_day=first,  # the period's first and last days there (the "to" day included)
        last_day=last,
        export_query=urlencode({k: v for k, v in here.items() if v}),
    )


def _rows(report: KpiReport, lang: str) -> list[list[Any]]:
    return [
        [
            i18n.pick(k.label, lang, k.key),
            k.value,
            i18n.translate(lang, f"export.unit_{k.unit}"),
            k.numerator,
            k.denominator,
            k.formula_in(lang),
            k.source_in(lang),
        ]
        for k in report.indicators
    ]


@router.get("/ui/dashboard/export.{fmt}")
def export_dashboard(
    request: Request,
    user: ReportPage,
    session: SessionDep,
    fmt: Annotated[Literal["csv", "xlsx"], Path()],
    definition: Annotated[str | None, Query(max_length=64)] = None,
    preset: Annotated[str, Query(max_length=8)] = "30d",
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    table: Annotated[Literal["indicators", "trend"], Query()] = "indicators",
) -> Response:
    """The dashboard's tables: its indicators and their trend (CSV: the one `table` names; XLSX: both)."""
    zone, lang = org_zone(request), i18n.language(request, user.language)
    _items, chosen = _chosen(session, user, definition)
    period, preset_used = chosen_period(preset, start or None, end or None, zone)
    periods = trend_periods(period, preset_used, zone)
    report, trend, _hidden = _reports(session, user, chosen, period, periods)

    def t(key: str) -> str:
        return i18n.translate(lang, key)

    columns = ("indicator", "value", "unit", "numerator", "denominator", "formula", "source")
    heads = [t(f"export.{c}") for c in columns]
    rows = _rows(report, lang) if report else []
    trend_heads = [t("export.indicator"), *[p.label for p in periods]]
    trend_rows = [
        [i18n.pick(k.label, lang, k.key), *[v.value if v else None for v in trend.of(k.key)]]
        for k in (report.indicators if report else [])
    ]
    name = f"{t('dash.title')}-{chosen or ''}"
    if fmt == "csv":
        return exports.csv_response(name, *((trend_heads, trend_rows) if table == "trend" else (heads, rows)))
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [
        (t("export.indicators"), heads, rows),
        (t("export.trend"), trend_heads, trend_rows),
    ]
    return exports.xlsx_response(name, sheets)
