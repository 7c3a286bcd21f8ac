"""Service report generation: one agreement's monthly service report (JSON, XLSX, PDF, every section) and
the yearly KPI report over a year of incidents and changes, on SQLite or PostgreSQL.

    python -m bench.reports [--quick] [--database-url URL] [--incidents N] [--changes M] [--runs R]

Seeds a year (2026) of incidents under one agreement and changes — read-model rows with their SLA clocks
in the snapshot, fields (satisfaction on a third, major incidents, breach reasons) and three audit rows
per resolved record (created, accepted, resolved) — and 120 outages; then builds November's report R
times per format (reports/agreement_report.py: the record sections are counted in the database) and the
incident KPI report over the whole year once. Prints p50/p99 per format, the yearly time and peak RSS,
then one JSON object on the last line: {"incidents", "changes", "monthly_json_p99_s",
"monthly_xlsx_p99_s", "monthly_pdf_p99_s", "yearly_kpis_s", "peak_rss_mb", "database"}. No timed asserts.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert

from bench.common import percentile
from core.db import make_engine, migrate, session_scope
from core.tables import AuditRow, RecordRow
from reports.agreement_pdf import document
from reports.agreement_report import build
from reports.agreement_xlsx import workbook
from reports.kpis import compute_kpis
from reports.model import Period
from sla.agreements import save_agreement, select_agreement
from sla.availability import record_outage
from sla.tables import RecordAgreementRow

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
MONTH = (datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI))
BATCH = 5000
SPEC: dict[str, Any] = {
    "title": {"zh": "基准服务协议", "en": "Benchmark agreement"},
    "service": "bench",
    "valid_from": "2026-01-01",
    "calendar": {"timezone": "Asia/Shanghai"},
    "targets": {str(p): {"response_minutes": 15 * p, "resolution_minutes": 240 * p} for p in range(1, 5)},
    "availability_target": 99.5,
    "max_interruptions": 3,
}


def _record(i: int, rng: random.Random, is_incident: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    created = YEAR + timedelta(seconds=rng.randrange(365 * 86400))
    resolved = created + timedelta(minutes=rng.randrange(10, 3000)) if rng.random() < 0.9 else None
    breached = rng.random() < 0.1
    rid = uuid.uuid4().hex[:20]
    fields: dict[str, Any] = {"category": rng.choice(["hardware", "software", "network", "security"])}
    if is_incident and rng.random() < 0.005:
        fields["major_incident"] = True
    if is_incident and resolved and rng.random() < 0.33:
        fields["satisfaction"] = str(rng.randint(1, 5))
    if breached and rng.random() < 0.5:
        fields["breach_reason"] = "vendor late"
    response = "breached" if breached and rng.random() < 0.3 else "met"
    resolution = "breached" if breached else ("met" if resolved else "running")
    row = {
        "id": rid,
        "number": f"B{i:07d}-{rid[:4]}",
        "definition_key": "incident" if is_incident else "change",
        "definition_version": 1,
        "title": "bench",
        "state": "resolved" if resolved else "in_progress",
        "state_category": "resolved" if resolved else "open",
        "priority": str(rng.randint(1, 4)),
        "final": False,
        "breached": breached,
        "fields": fields,
        "snapshot": {
            "slas": [{"name": "response", "state": response}, {"name": "resolution", "state": resolution}]
        },
        "created_at": created,
        "updated_at": resolved or created,
        "resolved_at": resolved,
    }
    audit = [
        ("created", None, "new", created),
        ("transition", "new", "in_progress", created + timedelta(minutes=5)),
    ]
    if resolved:
        audit.append(("transition", "in_progress", "resolved", resolved))
    events = [
        {
            "record_id": rid,
            "seq": n + 1,
            "at": at,
            "actor": "bench",
            "action": action,
            "from_state": old,
            "to_state": new,
            "details": {"fields": fields} if action == "created" else {},
        }
        for n, (action, old, new, at) in enumerate(audit)
    ]
    return row, events


def seed(url: str, incidents: int, changes: int) -> str:
    engine = make_engine(url)
    rng = random.Random(21)
    key = f"bench-{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as s:
        save_agreement(s, key, {**SPEC, "service": key}, actor="bench", now=YEAR)
        for _ in range(120):
            start = YEAR + timedelta(minutes=rng.randrange(365 * 24 * 60))
            end = start + timedelta(minutes=rng.randrange(5, 240))
            record_outage(
                s, service=key, start=start, end=end, planned=rng.random() < 0.2, actor="bench", now=YEAR
            )
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for i in range(incidents + changes):
            row, audit = _record(i, rng, i < incidents)
            rows.append(row)
            events += audit
            if i < incidents:
                notes.append({"record_id": row["id"], "agreement_key": key, "agreement_version": 1})
            if len(rows) >= BATCH or i == incidents + changes - 1:
                conn.execute(insert(RecordRow), rows)
                conn.execute(insert(AuditRow), events)
                if notes:
                    conn.execute(insert(RecordAgreementRow), notes)
                rows, events, notes = [], [], []
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
    began = time.perf_counter()
    key = seed(url, args.incidents, args.changes)
    print(
        f"seeded {args.incidents:,} incidents and {args.changes:,} changes"
        f" in {time.perf_counter() - began:.1f} s"
    )
    engine = make_engine(url)
    times: dict[str, list[float]] = {"json": [], "xlsx": [], "pdf": []}
    size: dict[str, int] = {}
    for _ in range(args.runs):
        for kind in times:
            began = time.perf_counter()
            with session_scope(engine) as s:
                row = select_agreement(s, key, [], MONTH[0].date())
                assert row is not None
                report = build(s, row, *MONTH)
            if kind == "json":
                data = report.model_dump_json().encode()
            elif kind == "xlsx":
                data = workbook(report, "zh")
            else:
                data = document(report, "zh")
            times[kind].append(time.perf_counter() - began)
            size[kind] = len(data)
    began = time.perf_counter()
    with session_scope(engine) as s:
        kpis = compute_kpis(
            s, definition="incident", period=Period(start=YEAR, end=YEAR + timedelta(days=365))
        )
    yearly = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for kind, values in times.items():
        print(
            f"monthly {kind}: p50 {percentile(values, 50):.3f} s, p99 {percentile(values, 99):.3f} s"
            f" ({size[kind]:,} bytes)"
        )
    print(f"yearly incident KPIs ({kpis.records:,} records): {yearly:.3f} s; peak RSS {peak:.0f} MB")
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
