"""Scheduled records at scale (issue 20): N schedules due at the same instant (the 09:00 of a working
day), each starting a record through its Temporal Schedule.

    python -m bench.schedules [--quick] [--schedules N]

Starts `itilflow dev` in a temporary data directory (Temporal dev server, worker, API, SQLite), creates
N schedules of the library `incident` through `POST /api/v1/schedules`, all due at the same second a
little after the last is made (`every day at HH:MM:SS`, no business calendar), then polls the read model
until every schedule's record is there. Reports, from the due instant, when each record became visible
in the read model (p50, p99, max; polled every 0.2 s), and the CPU the worker and the Temporal server
spent from the due instant until the last record was visible.

The last line is one JSON object: {"schedules", "start_p50_s", "start_p99_s", "upload_mb_per_s",
"download_mb_per_s"}. The upload/download keys (attachments' throughput, issue 20) stay null: the
attachments are built on another branch and measured there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from bench.common import CpuMeter, dev_subprocess, percentile, pool
from core.db import make_engine

FIELDS = {"impact": "2", "urgency": "2"}


async def _create(http: httpx.AsyncClient, token: str, n: int, due: datetime, clients: int) -> list[str]:
    ids: list[str] = []

    async def one(i: int) -> None:
        body = {
            "name": f"bench patrol {i}",
            "definition": "incident",
            "title": f"Morning patrol {i}",
            "fields": FIELDS,
            "rule": {"kind": "workdays", "at": f"{due:%H:%M:%S}"},
            "calendar": None,
            "timezone": "UTC",
            "owner": "owner",
        }
        r = await http.post(
            "/api/v1/schedules",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-schedule-{i}"},
        )
        if r.status_code != 201:
            raise SystemExit(f"creating schedule {i} failed: {r.status_code} {r.text}")
        ids.append(r.json()["id"])

    took = await pool(n, clients, one)
    print(f"created {n} schedules in {took:.1f} s ({n / took:.0f}/s)")
    return ids


def _visible(database_url: str, ids: list[str]) -> set[str]:
    """The schedules whose record is in the read model (records row written by persist_record)."""
    engine = make_engine(database_url)
    query = text(
        "SELECT r.schedule_id FROM schedule_runs r JOIN records c ON c.id = r.record_id "
        "WHERE r.status = 'started'"
    )
    with engine.connect() as conn:
        found = {row[0] for row in conn.execute(query)}
    engine.dispose()
    return found & set(ids)


async def run(n: int, clients: int, lead_s: float) -> dict[str, object]:
    with dev_subprocess("warning") as target:
        token = target.tokens["owner"]
        due = (datetime.now(UTC) + timedelta(seconds=lead_s)).replace(microsecond=0)
        async with httpx.AsyncClient(base_url=target.base, timeout=120) as http:
            ids = await _create(http, token, n, due, clients)
        wait = (due - datetime.now(UTC)).total_seconds()
        if wait < 1:
            raise SystemExit(
                f"creating the schedules took longer than the lead ({lead_s} s): use a larger --lead"
            )
        print(f"all due at {due:%H:%M:%S} UTC, in {wait:.0f} s")
        await asyncio.sleep(wait - 0.5)
        meter = CpuMeter({k: v for k, v in target.pids.items() if k in ("worker", "server", "api")})
        seen: dict[str, float] = {}
        deadline = time.monotonic() + max(120.0, n * 0.5)
        while len(seen) < n and time.monotonic() < deadline:
            now = (datetime.now(UTC) - due).total_seconds()
            for sid in _visible(target.database_url, ids) - seen.keys():
                seen[sid] = now
            await asyncio.sleep(0.2)
        cpu = meter.spent()
    latencies = sorted(seen.values())
    missing = n - len(latencies)
    p50 = percentile(latencies, 50) if latencies else None
    p99 = percentile(latencies, 99) if latencies else None
    print(
        f"records visible: {len(latencies)}/{n}"
        + (f" ({missing} missing at the deadline)" if missing else "")
    )
    if latencies:
        print(f"from the due instant: p50 {p50:.2f} s, p99 {p99:.2f} s, last {latencies[-1]:.2f} s")
    print("CPU seconds until the last record: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    if "worker" in cpu:
        print(f"worker CPU per scheduled start: {cpu['worker'] * 1000 / max(1, n):.1f} ms")
    print(
        "attachments' upload/download throughput: not measured here (the attachments are not on this branch)"
    )
    return {
        "schedules": n,
        "start_p50_s": round(p50, 3) if p50 is not None else None,
        "start_p99_s": round(p99, 3) if p99 is not None else None,
        "upload_mb_per_s": None,
        "download_mb_per_s": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100 schedules (under three minutes)")
    parser.add_argument("--schedules", type=int, default=None, help="how many (default 1000; --quick 100)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients creating them")
    parser.add_argument("--lead", type=float, default=None, help="seconds from the start until all are due")
    args = parser.parse_args()
    n = args.schedules or (100 if args.quick else 1000)
    lead = args.lead if args.lead is not None else 30 + n * 0.1  # creation runs at 30-90 per second here
    result = asyncio.run(run(n, args.clients, lead))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
