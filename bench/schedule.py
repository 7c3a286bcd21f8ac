"""The change schedule at scale: conflict checks, the month view and a group's ICS feed over a schedule
of changes on a CMDB, in process (the service functions the API routes call, on a real database).

    python -m bench.schedule [--quick] [--database-url URL] [--changes N] [--cis M]

The CIs and their relationships (each CI related to two others at random) and the changes (spread over
two years, one to three CIs each, one of 50 implementers and 20 groups) are written straight into the
tables, seeded, the same every run; a few freeze windows are defined through `schedule.windows`. Then:
the conflict check of one change (what the workflow asks when a change is submitted or started:
freezes, maintenance windows, overlaps on the same or related CIs, the implementer), the month view
(the forward schedule over 31 days) and a group's ICS feed. Without --database-url a fresh SQLite
file; a PostgreSQL database should be fresh (the bench adds records).

The last line is one JSON object: {"changes", "cis", "conflict_p50_ms", "conflict_p99_ms",
"month_view_p99_ms", "ics_ms", "database", "truncated"}.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert
from sqlmodel import col, select

from api.auth import Principal
from api.services import schedule as forward
from api.services import schedule_feeds
from bench.common import percentile
from cmdb.tables import CiRow, RelationRow
from core.db import make_engine, migrate, session_scope
from core.store import upsert_user
from core.tables import DefinitionRow, RecordCiRow, RecordRow, RecordWindowRow
from schedule import record_check, windows
from schedule.views import FeedIn, WindowIn

START = datetime(2027, 1, 1, tzinfo=UTC)


def seed(url: str, n_changes: int, n_cis: int) -> None:
    rng = random.Random(18)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        conn = session.connection()
        first = None
        for chunk in range(0, n_cis, 5000):
            rows = [
                {
                    "class_name": "server",
                    "name": f"bench-sched-{i}",
                    "status": "active",
                    "attributes": {"hostname": f"bench-sched-{i}"},
                    "model_version": 0,
                    "created_by": "bench",
                    "created_at": now,
                    "updated_by": "bench",
                    "updated_at": now,
                }
                for i in range(chunk, min(n_cis, chunk + 5000))
            ]
            ids = conn.execute(insert(CiRow).returning(CiRow.id), rows).scalars().all()  # type: ignore[arg-type]
            first = first if first is not None else min(ids)
        assert first is not None
        ci_ids = list(range(first, first + n_cis))
        rels = {(rng.choice(ci_ids), rng.choice(ci_ids)) for _ in range(n_cis * 2)}
        conn.execute(
            insert(RelationRow),
            [
                {
                    "type": "connects_to",
                    "source_id": s,
                    "target_id": t,
                    "created_by": "bench",
                    "created_at": now,
                }
                for s, t in rels
                if s != t
            ],
        )
        records, links, windows_rows = [], [], []
        for i in range(n_changes):
            rid = uuid.uuid4().hex
            start = START + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            end = start + timedelta(hours=rng.choice((1, 2, 4, 8)))
            records.append(
                {
                    "id": rid,
                    "number": f"BCHG{i:07d}",
                    "definition_key": "bench-change",
                    "definition_version": 1,
                    "title": f"bench change {i}",
                    "state": "scheduled",
                    "state_category": "open",
                    "assignment_group": f"group-{i % 20}",
                    "final": False,
                    "fields": {
                        "planned_start": start.isoformat(),
                        "planned_end": end.isoformat(),
                        "implementer": f"impl-{i % 50}",
                    },
                    "snapshot": {},
                    "created_at": start - timedelta(days=14),
                    "updated_at": start - timedelta(days=14),
                }
            )
            windows_rows.append(
                {
                    "record_id": rid,
                    "starts_at": start,
                    "ends_at": end,
                    "duration_s": int((end - start).total_seconds()),
                }
            )
            links += [
                {"record_id": rid, "field": "affected_cis", "ci_id": c}
                for c in set(rng.sample(ci_ids, rng.randint(1, 3)))
            ]
        for i in range(0, len(records), 2000):
            conn.execute(insert(RecordRow), records[i : i + 2000])
        for i in range(0, len(links), 5000):
            conn.execute(insert(RecordCiRow), links[i : i + 5000])
        for i in range(0, len(windows_rows), 5000):
            conn.execute(insert(RecordWindowRow), windows_rows[i : i + 5000])
        for month in range(0, 24, 6):
            begin = START + timedelta(days=30 * month)
            windows.create(
                session,
                WindowIn(
                    kind="freeze",
                    title_en=f"freeze {month}",
                    title_zh=f"封网 {month}",
                    starts_at=begin,
                    ends_at=begin + timedelta(days=7),
                ),
                actor="bench",
            )
        # The records' definition, published as a real one is (who may see its records is read from it).
        session.add(
            DefinitionRow(
                key="bench-change",
                version=1,
                status="published",
                source="key: bench-change\n",
                hash="bench",
                created_by="bench",
                created_at=now,
            )
        )
        upsert_user(session, username="bench-admin", roles=["admin"], language="en")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 changes and 10,000 CIs")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--changes", type=int)
    parser.add_argument("--cis", type=int)
    args = parser.parse_args()
    n_changes = args.changes or (2_000 if args.quick else 20_000)
    n_cis = args.cis or (10_000 if args.quick else 100_000)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'schedule.sqlite'}"
    migrate(url)
    t0 = time.perf_counter()
    seed(url, n_changes, n_cis)
    print(f"seeded {n_changes} changes on {n_cis} CIs in {time.perf_counter() - t0:.1f} s")
    engine = make_engine(url)
    admin = Principal(username="bench-admin", roles=["admin"], language="en")
    rng = random.Random(5)
    conflict_ms, month_ms, truncated = [], [], False
    with session_scope(engine) as session:
        first_ci = session.exec(
            select(func.min(CiRow.id)).where(col(CiRow.name).startswith("bench-sched-"))
        ).one()
        assert first_ci is not None
        for i in range(30 if args.quick else 200):
            # What the workflow asks when a change is submitted or started (local activity check_schedule).
            start = START + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            cis = [first_ci + rng.randrange(n_cis) for _ in range(rng.randint(1, 3))]
            t = time.perf_counter()
            record_check.findings(
                session,
                record_id=f"bench-new-{i}",
                number=f"BNEW{i:05d}",
                start=start,
                end=start + timedelta(hours=4),
                cis=cis,
                implementer=f"impl-{i % 50}",
                ecab_approved=False,
                maintenance_window=False,
            )
            conflict_ms.append((time.perf_counter() - t) * 1000)
        for m in range(10 if args.quick else 24):
            start = START + timedelta(days=30 * m)
            t = time.perf_counter()
            out = forward.forward(session, admin, start, start + timedelta(days=31), ci=None, group=None)
            month_ms.append((time.perf_counter() - t) * 1000)
            truncated = truncated or out.truncated
        feed = schedule_feeds.create(session, admin, FeedIn(kind="group", target="group-3"))
        assert feed.path is not None
        token = feed.path.rsplit("/", 1)[1].removesuffix(".ics")
        t = time.perf_counter()
        ics = schedule_feeds.document(session, token, "bench")
        ics_ms = (time.perf_counter() - t) * 1000
    engine.dispose()
    result = {
        "changes": n_changes,
        "cis": n_cis,
        "conflict_p50_ms": round(percentile(conflict_ms, 50), 1),
        "conflict_p99_ms": round(percentile(conflict_ms, 99), 1),
        "month_view_p99_ms": round(percentile(month_ms, 99), 1),
        "ics_ms": round(ics_ms, 1),
        "ics_bytes": len(ics),
        "truncated": truncated,
        "database": url.split(":", 1)[0].split("+")[0],
    }
    print(f"conflict check p50 {result['conflict_p50_ms']} ms, p99 {result['conflict_p99_ms']} ms")
    print(f"month view p99 {result['month_view_p99_ms']} ms; ICS feed of a group {result['ics_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
