"""Building blocks shared by the per-process indicator modules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reports.data import category_of
from reports.model import Event, Facts, Kpi, Label, Period, Unit

DONE = ("resolved", "closed")
ACTIVE = ("new", "open", "waiting")


@dataclass
class Context:
    """What every indicator function gets: the records, their state categories and the period."""

    facts: list[Facts]
    categories: dict[str, str]
    period: Period
    incident_definition: str = "incident"  # where cross-process indicators find the incidents
    # Definitions whose records the reader may not see (their `visibility:`): indicators that look
    # across every process leave them out.
    hidden: frozenset[str] = frozenset()

    def category(self, state: str | None) -> str | None:
        return category_of(self.categories, state)


def ratio(
    key: str,
    zh: str,
    en: str,
    numerator: float,
    denominator: float,
    *,
    formula: str,
    formula_zh: str,
    source: str,
    period: Period,
) -> Kpi:
    value = round(100.0 * numerator / denominator, 2) if denominator else None
    return Kpi(
        key=key,
        label=Label(zh=zh, en=en),
        value=value,
        numerator=numerator,
        denominator=denominator,
        unit="percent",
        formula=formula,
        formula_zh=formula_zh,
        source=source,
        period=period,
    )


def mean(
    key: str,
    zh: str,
    en: str,
    values: Iterable[float],
    *,
    unit: Unit,
    formula: str,
    formula_zh: str,
    source: str,
    period: Period,
) -> Kpi:
    items = list(values)
    total = sum(items)
    return Kpi(
        key=key,
        label=Label(zh=zh, en=en),
        value=round(total / len(items), 2) if items else None,
        numerator=round(total, 2),
        denominator=len(items),
        unit=unit,
        formula=formula,
        formula_zh=formula_zh,
        source=source,
        period=period,
    )


def count(
    key: str,
    zh: str,
    en: str,
    value: int,
    *,
    formula: str,
    formula_zh: str,
    source: str,
    period: Period,
    breakdown: dict[str, float] | None = None,
) -> Kpi:
    return Kpi(
        key=key,
        label=Label(zh=zh, en=en),
        value=value,
        numerator=value,
        denominator=None,
        unit="count",
        formula=formula,
        formula_zh=formula_zh,
        source=source,
        period=period,
        breakdown=breakdown,
    )


def drill(kpis: list[Kpi], members: dict[str, Iterable[Facts]]) -> list[Kpi]:
    """The records behind each figure, where a formula names them (the dashboard's drill-down)."""
    for kpi in kpis:
        if kpi.key in members:
            kpi.with_members(members[kpi.key])
    return kpis


def minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600.0


def is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "y", "1", "passed", "pass", "done", "ok")
    return bool(value)


def first_entry(ctx: Context, f: Facts, categories: tuple[str, ...]) -> datetime | None:
    """When the record first entered a state of one of these categories (from the audit trail)."""
    for e in f.transitions():
        if ctx.category(e.to_state) in categories:
            return e.at
    if f.state_category in categories:  # a record created straight into such a state
        return f.resolved_at or f.closed_at or f.created_at
    return None


def last_entry(ctx: Context, f: Facts, categories: tuple[str, ...]) -> datetime | None:
    """When the record last entered a state of these categories and stayed (None if it left again)."""
    if f.state_category not in categories:
        return None
    for e in reversed(f.transitions()):
        if ctx.category(e.to_state) in categories:
            return e.at
    return f.resolved_at or f.closed_at


def resolved_at(ctx: Context, f: Facts) -> datetime | None:
    """The final resolution: the last entry into a resolved state (a reopen makes the earlier one void).

    A record closed without passing through a resolved state (cancelled, withdrawn) was never resolved.
    """
    if f.state_category not in DONE:
        return None
    last_resolved = None
    for e in f.transitions():
        cat = ctx.category(e.to_state)
        if cat == "resolved":
            last_resolved = e.at
        elif cat in ACTIVE:
            last_resolved = None
    return last_resolved or f.resolved_at


def reopens(ctx: Context, f: Facts) -> list[Event]:
    """Transitions from a resolved or closed state back to work (new, open or waiting)."""
    return [
        e
        for e in f.transitions()
        if ctx.category(e.from_state) in DONE and ctx.category(e.to_state) in ACTIVE
    ]


def ended_in(f: Facts, names: tuple[str, ...]) -> bool:
    return f.final and f.state in names


def passed_through(f: Facts, states: tuple[str, ...]) -> bool:
    return f.state in states or any(e.to_state in states for e in f.transitions())


def sla_outcomes(facts: Iterable[Facts]) -> tuple[int, int, dict[str, float]]:
    """(met, met + breached, per-SLA met share) over finished or breached clocks; running ones wait."""
    met = total = 0
    per: dict[str, list[int]] = {}
    for f in facts:
        for clock in f.slas():
            state = clock.get("state")
            if state not in ("met", "breached"):
                continue
            name = str(clock.get("name", "sla"))
            bucket = per.setdefault(name, [0, 0])
            bucket[1] += 1
            total += 1
            if state == "met":
                met += 1
                bucket[0] += 1
    breakdown = {name: round(100.0 * m / t, 2) for name, (m, t) in sorted(per.items()) if t}
    return met, total, breakdown
