"""`itilflow report kpis`: the key indicators of a process, from the database in DATABASE_URL."""

from __future__ import annotations

import argparse
import json
import sys

from core.db import make_engine
from core.settings import get_settings
from reports.kpis import CALCULATORS, report
from reports.model import KpiReport, Period, parse_instant

UNITS = {"percent": "%", "count": "", "minutes": " min", "hours": " h", "days": " d"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("report", help="key indicators (关键指标) from the read model")
    rsub = parser.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    kpis = rsub.add_parser("kpis", help="the key indicators of one process, with their formulas")
    kpis.add_argument("--definition", required=True, help="definition key, e.g. incident")
    kpis.add_argument("--from", dest="start", help="records created from this date/date-time (UTC)")
    kpis.add_argument("--to", dest="end", help="... and before this one (exclusive)")
    kpis.add_argument("--kind", choices=sorted(CALCULATORS), help="indicator set (default: from the key)")
    kpis.add_argument(
        "--incidents", default="incident", help="incident definition for cross-process indicators"
    )
    kpis.add_argument("--json", action="store_true", help="print the report as JSON")
    kpis.set_defaults(func=_kpis)


def _kpis(args: argparse.Namespace) -> int:
    try:
        period = Period(
            start=parse_instant(args.start) if args.start else None,
            end=parse_instant(args.end) if args.end else None,
        )
    except ValueError as exc:
        print(f"itilflow report kpis: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(get_settings().resolved_database_url())
    result = report(
        engine, definition=args.definition, period=period, kind=args.kind, incident_definition=args.incidents
    )
    if args.json:
        print(json.dumps(result.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
    else:
        print(render(result))
    return 0


def render(result: KpiReport) -> str:
    start = result.period.start.isoformat() if result.period.start else "…"
    end = result.period.end.isoformat() if result.period.end else "…"
    lines = [f"{result.definition} ({result.kind}): {result.records} records created in [{start}, {end})"]
    for k in result.indicators:
        value = "n/a" if k.value is None else f"{k.value:g}{UNITS[k.unit]}"
        ratio = "" if k.denominator is None else f"  ({k.numerator:g} / {k.denominator:g})"
        lines.append(f"  {k.label.zh} / {k.label.en}: {value}{ratio}")
        # Both languages, like the label above: the CLI has no reader language.
        lines.append(f"      = {k.formula_zh}")
        lines.append(f"      = {k.formula}   [{k.source}]")
        if k.breakdown:
            lines.append("      " + ", ".join(f"{name}: {n:g}" for name, n in k.breakdown.items()))
    if result.assumptions:
        lines.append("assumptions: " + "; ".join(result.assumptions))
    return "\n".join(lines)
