"""Coinciding SLA deadlines as they happen (issue 19): every business-hours clock resuming at 09:00.

Records of a definition whose calendar opens at one minute in the near future are started while it is
closed; none has consumed any business time, so every record's deadline is that minute plus the same
target — the same instant, however long the starts took. (bench/engine.py instead aims each record's
target at a common deadline on a 0.1 s grid; for 10,000 records the grid's targets made the definition
larger than a record may carry.) The lag of a record is from that instant to its notification row's
`created_at` (written when the escalation is recorded, whether by the worker's alarm clock or by the
durable timer)."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from bench.common import pool
from bench.engine import AGENT
from client.launch import launch_record
from core.tables import AuditRow, NotificationRow
from definitions.loader import PinnedDefinition, from_data, pin

FIXTURE = Path(__file__).parent / "fixtures" / "sla.yaml"
TARGET = timedelta(seconds=10)


def opening_definition(opens: datetime) -> PinnedDefinition:
    """bench/fixtures/sla.yaml with a UTC calendar closed until `opens` (a whole minute) that day."""
    data = yaml.safe_load(FIXTURE.read_text())
    day = opens.strftime("%a").lower()[:3]
    data["calendars"] = {"office": {"timezone": "UTC", "weekly": {day: [f"{opens:%H:%M}-23:59"]}}}
    sla = data["slas"][0]
    sla["calendar"] = "office"
    sla["targets"] = {"hold": f"PT{int(TARGET.total_seconds())}S"}
    result = from_data(data)
    if not result.ok or result.definition is None:
        raise RuntimeError("bench calendar definition is invalid: " + "; ".join(map(str, result.issues)))
    return pin(result.definition, 1)


async def opening_deadlines(
    client: Client, engine: Engine, count: int, seconds_per_start: float
) -> list[float]:
    """Start `count` records before their calendar opens; the lags (ms) of their escalations."""
    lead = count * seconds_per_start * 1.3 + 15
    opens = (datetime.now(UTC) + timedelta(seconds=lead)).replace(second=0, microsecond=0)
    opens += timedelta(minutes=1)
    if opens.date() != (opens + TARGET).date() or opens.hour == 23 and opens.minute >= 58:
        raise RuntimeError("the calendar would open too close to midnight (UTC): run again in a few minutes")
    pinned = opening_definition(opens)
    deadline = opens + TARGET
    print(f"  starting {count} records; their clocks open at {opens:%H:%M} UTC, deadline {deadline:%H:%M:%S}")
    t0 = time.perf_counter()

    async def start(_: int) -> None:
        await launch_record(
            client,
            engine,
            task_queue="itilflow",
            pinned=pinned,
            record_id=uuid.uuid4().hex[:20],
            title="Opening hours",
            fields={"impact": "hold", "urgency": "hold"},
            actor=AGENT,
        )

    await pool(count, 50, start)
    late = datetime.now(UTC) > opens
    print(f"  started in {time.perf_counter() - t0:.0f} s" + (" (AFTER the calendar opened)" if late else ""))
    until = deadline + timedelta(seconds=120)
    rows: list[tuple[str, datetime]] = []
    due: list[tuple[str, datetime]] = []
    while datetime.now(UTC) < until:
        await asyncio.sleep(2)
        if datetime.now(UTC) < deadline:
            continue
        with Session(engine) as session:
            rows = list(
                session.exec(
                    select(NotificationRow.record_id, NotificationRow.created_at).where(
                        NotificationRow.template == "sla_breach"
                    )
                ).all()
            )
            due = list(
                session.exec(
                    select(AuditRow.record_id, AuditRow.at).where(col(AuditRow.action) == "sla_threshold")
                ).all()
            )
        if len({r for r, _ in rows}) >= count and len(due) >= count:
            break
    first: dict[str, datetime] = {}
    for record_id, created in rows:
        first[record_id] = min(created, first.get(record_id, created))
    recorded: dict[str, datetime] = {str(r): at for r, at in due}
    off = sum(1 for at in recorded.values() if abs((at - deadline).total_seconds()) > 0.001)
    if off:
        print(f"  WARNING: {off} thresholds recorded at another instant than {deadline:%H:%M:%S}")
    if len(first) < count:
        print(f"  WARNING: only {len(first)} of {count} escalations within 120 s of the deadline")
    return [max(0.0, (t - deadline).total_seconds() * 1000) for t in first.values()] or [math.nan]
