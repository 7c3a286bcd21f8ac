"""Service report generation: one agreement's monthly report (JSON figures, XLSX, PDF) and the yearly
incident KPI report over a year of incidents and changes, on SQLite or PostgreSQL.

    python -m bench.reports [--quick] [--database-url URL] [--incidents N] [--changes M] [--runs R]

Prints the figures, then one JSON object on the last line: {"incidents", "changes",
"monthly_json_p99_s", "monthly_xlsx_p99_s", "monthly_pdf_p99_s", "yearly_kpis_s", "peak_rss_mb",
"database"}. The monthly report is the whole report: availability, records per priority and every
section (attainment, deviations, major incidents, outages, satisfaction, six periods of trends, each
process's KPIs). The aggregations run in the database (sla/, reports/). No timed asserts.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from api.services import service_report
from bench.common import percentile
from core.db import make_engine, migrate, session_scope
from core.tables import RecordRow
from reports.kpis import compute_kpis
from reports.model import Period
from sla.agreements import save_agreement, select_agreement
from sla.availability import availability, record_outage
from sla.pdf import document
from sla.records import record_figures
from sla.tables import RecordAgreementRow
from sla.xlsx import workbook

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
SPEC: dict[str, Any] = {
    "title": {"zh": "基准服务协议", "en": "Benchmark agreement"},
    "service": "bench",
    "valid_from": "2026-01-01",
    "calendar": {"timezone": "Asia/Shanghai"},
    "targets": {str(p): {"response_minutes": 15 * p, "resolution_minutes": 240 * p} for p in range(1, 5)},
    "availability_target": 99.5,
    "max_interruptions": 3,
}


def seed(url: str, incidents: int, changes: int) -> str:
    engine = make_engine(url)
    rng = random.Random(21)
    key = f"bench-{uuid.uuid4().hex[:8]}"
    spec = {**SPEC, "service": key}
    with session_scope(engine) as s:
        save_agreement(s, key, spec, actor="bench", now=YEAR)
        for _ in range(120):
            start = YEAR + timedelta(minutes=rng.randrange(365 * 24 * 60))
            record_outage(
                s,
                service=key,
                start=start,
                end=start + timedelta(minutes=rng.randrange(5, 240)),
                planned=rng.random() < 0.2,
                actor="bench",
                now=YEAR,
            )
    rows, notes = [], []
    for i in range(incidents + changes):
        created = YEAR + timedelta(seconds=rng.randrange(365 * 86400))
        is_incident = i < incidents
        resolved = created + timedelta(minutes=rng.randrange(10, 3000)) if rng.random() < 0.9 else None
        rid = uuid.uuid4().hex[:20]
        rows.append(
            {
                "id": rid,
                "number": f"B{i:07d}-{rid[:4]}",
                "definition_key": "incident" if is_incident else "change",
                "definition_version": 1,
                "title": "bench",
                "state": "resolved" if resolved else "new",
                "state_category": "resolved" if resolved else "new",
                "priority": str(rng.randint(1, 4)),
                "final": False,
                "breached": rng.random() < 0.1,
                "fields": {"satisfaction": str(rng.randint(1, 5)), "resolution_notes": "bench"}
                if resolved and rng.random() < 0.3
                else {},
                "snapshot": {},
                "created_at": created,
                "updated_at": resolved or created,
                "responded_at": created + timedelta(minutes=rng.randrange(1, 120)),
                "resolved_at": resolved,
            }
        )
        if is_incident:
            notes.append({"record_id": rid, "agreement_key": key, "agreement_version": 1})
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(insert(RecordRow), rows[i : i + 5000])
        for i in range(0, len(notes), 5000):
            conn.execute(insert(RecordAgreementRow), notes[i : i + 5000])
    engine.dispose()
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 incidents, 500 changes, 5 runs")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if args.quick:
        args.incidents, args.changes, args.runs = 10_000, 500, 5
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-reports-')}/bench.sqlite"
    migrate(url)
    key = seed(url, args.incidents, args.changes)
    engine = make_engine(url)
    month = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    times: dict[str, list[float]] = {"json": [], "xlsx": [], "pdf": []}
    for _ in range(args.runs):
        for kind in times:
            began = time.perf_counter()
            with session_scope(engine) as s:
                row = select_agreement(s, key, [], month[0].date())
                assert row is not None
                figures = availability(s, row, *month)
                priorities = record_figures(s, row, *month)
                sections = service_report.build(s, row, *month, "zh")  # every section, KPIs included
                if kind == "xlsx":
                    workbook("bench", figures, priorities, "zh", sections)
                elif kind == "pdf":
                    document("bench", *month, figures, priorities, "zh", sections)
            times[kind].append(time.perf_counter() - began)
    began = time.perf_counter()
    with session_scope(engine) as s:
        kpis = compute_kpis(
            s, definition="incident", period=Period(start=YEAR, end=YEAR + timedelta(days=365))
        )
    yearly = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for kind, values in times.items():
        print(f"monthly {kind}: p50 {percentile(values, 50):.3f} s, p99 {percentile(values, 99):.3f} s")
    print(f"yearly incident KPIs ({kpis.records} records): {yearly:.3f} s; peak RSS {peak:.0f} MB")
    result = {
        "incidents": args.incidents,
        "changes": args.changes,
        "monthly_json_p99_s": round(percentile(times["json"], 99), 4),
        "monthly_xlsx_p99_s": round(percentile(times["xlsx"], 99), 4),
        "monthly_pdf_p99_s": round(percentile(times["pdf"], 99), 4),
        "yearly_kpis_s": round(yearly, 4),
        "peak_rss_mb": round(peak, 1),
        "database": engine.dialect.name,
    }
    engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
