"""CMDB at scale: a generated CMDB imported, then impact analysis and search through a real API process.

    python -m bench.cmdb [--quick] [--database-url URL] [--cis N] [--relations M]

The CMDB is layered like a bank's estate: business services depend on applications, applications on
databases and run on servers, databases run on servers, servers connect to network devices, network
devices to each other (a seeded random graph, the same every run). The import goes through
`cmdb.bulk.run` (what `itilflow cmdb import` and the API run), in one transaction. Then an API process
(`itilflow api`, on the same database) answers impact analysis at depth 5 in both
directions from the core business service (the one with the most dependencies), and CI searches
(by a unique key, by part of a name, by a non-unique attribute). The first impact answer, which warms
the process, is reported apart (`impact_first_ms`). The API process's memory is its peak
resident set (VmHWM). Without --database-url the CMDB goes into a fresh SQLite file; a PostgreSQL
database should be empty of CMDB data (the bench refuses otherwise).

The last line is one JSON object: {"cis", "relations", "import_s", "impact_p50_ms", "impact_p99_ms",
"search_p99_ms", "database", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from api.auth import issue_token
from bench.common import percentile
from cmdb import bulk, models
from cmdb.bulk_parse import from_data
from cmdb.tables import CiRow
from core.db import make_engine, migrate, session_scope
from core.store import upsert_user
from devenv.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
# Share of each class among the CIs, and of each relationship kind among the relationships.
CLASSES = {
    "business_service": 0.01,
    "application": 0.15,
    "database": 0.08,
    "server": 0.60,
    "network_device": 0.16,
}
EDGES = [  # type, source class, target class, share
    ("depends_on", "business_service", "application", 0.02),
    ("depends_on", "application", "database", 0.13),
    ("runs_on", "application", "server", 0.25),
    ("runs_on", "database", "server", 0.10),
    ("connects_to", "server", "network_device", 0.45),
    ("connects_to", "network_device", "network_device", 0.05),
]


def generate(n_cis: int, n_relations: int, seed: int = 17) -> dict[str, Any]:
    rng = random.Random(seed)
    names: dict[str, list[str]] = {}
    cis: list[dict[str, Any]] = []
    for cls, share in CLASSES.items():
        count = max(2, int(n_cis * share))
        names[cls] = [f"{cls[:3]}-{i:06d}" for i in range(count)]
        for i, name in enumerate(names[cls]):
            attrs: dict[str, Any] = {
                "business_service": {
                    "owner": f"team{i % 40}",
                    "criticality": ("critical", "high", "medium", "low")[i % 4],
                },
                "application": {"environment": "production", "version": f"{i % 9}.{i % 7}"},
                "database": {"engine": ("postgresql", "oracle", "mysql")[i % 3], "port": 5432},
                "server": {
                    "hostname": name,
                    "cpu_cores": 2 ** (i % 6),
                    "os": "linux",
                    "location": f"DC{i % 3}",
                },
                "network_device": {"hostname": name, "kind": ("switch", "router")[i % 2]},
            }[cls]
            cis.append({"class": cls, "name": name, "attributes": attrs})
    relations: list[dict[str, Any]] = []
    for type_, src, dst, share in EDGES:
        want, seen = int(n_relations * share), set()
        sources, targets = names[src], names[dst]
        # The core service (index 0) gets the most dependencies, 20 applications whatever the size
        # (an average service has 8): it is the one the bench walks from.
        core = 20 / max(want, 1) if src == "business_service" else 0.0
        while len(seen) < want and len(seen) < len(sources) * len(targets) // 2:
            s = 0 if rng.random() < core else rng.randrange(len(sources))
            t = rng.randrange(len(targets))
            if src == dst and s >= t:  # network devices connect "upwards" only: no loops to model
                continue
            if (s, t) in seen:
                continue
            seen.add((s, t))
            relations.append(
                {
                    "type": type_,
                    "source": {"class": src, "key": sources[s]},
                    "target": {"class": dst, "key": targets[t]},
                }
            )
    return {"cis": cis, "relations": relations}


def start_api(url: str, port: int) -> subprocess.Popen[bytes]:
    """The API as production runs it: `itilflow api` (which also settles the garbage collector)."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "api", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 CIs and 40,000 relationships")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--cis", type=int)
    parser.add_argument("--relations", type=int)
    parser.add_argument(
        "--impacts",
        type=int,
        default=0,
        help="impact requests (default 200, quick 100): the p99 of fewer is just the slowest one",
    )
    args = parser.parse_args()
    n_cis = args.cis or (10_000 if args.quick else 100_000)
    n_rel = args.relations or 4 * n_cis
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-cmdb-')}/cmdb.sqlite"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        if session.execute(select(func.count()).select_from(CiRow)).scalar_one():
            sys.exit("bench/cmdb.py: the database already holds CIs; give it an empty one")
        upsert_user(session, username="bench_cm", roles=["configuration_manager"], language="en")
        token = issue_token(session, username="bench_cm", name="bench")

    data = generate(n_cis, n_rel)
    print(f"generated {len(data['cis'])} CIs and {len(data['relations'])} relationships", flush=True)
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = bulk.run(session, models.current(session), from_data(data), actor="bench_cm")
    import_s = time.perf_counter() - started
    assert not report.errors, report.errors[:5]
    print(
        f"import: {import_s:.1f} s ({report.created} CIs, {report.relations_created} relationships)",
        flush=True,
    )
    with session_scope(engine) as session:
        core = session.execute(
            select(CiRow.id).where(CiRow.class_name == "business_service", CiRow.name == "bus-000000")
        ).scalar_one()
    engine.dispose()

    port = free_port()
    api = start_api(url, port)
    try:
        base = f"http://127.0.0.1:{port}/api/v1/cmdb"
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for _ in range(100):
                try:
                    if http.get(f"{base}/classes").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            # The first answer warms the process (query plans, the model's parse, pydantic's
            # serialisers): reported on its own as `impact_first_ms`, left out of the percentiles.
            t0 = time.perf_counter()
            assert (
                http.get(f"{base}/cis/{core}/impact", params={"depth": 5, "direction": "both"}).status_code
                == 200
            )
            first_ms = (time.perf_counter() - t0) * 1000
            impacts: list[float] = []
            reached = 0
            for _ in range(args.impacts or (100 if args.quick else 200)):
                t0 = time.perf_counter()
                r = http.get(f"{base}/cis/{core}/impact", params={"depth": 5, "direction": "both"})
                impacts.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
                reached = len(r.json()["reached"])
            rng = random.Random(5)
            servers = int(n_cis * CLASSES["server"])
            queries = [
                lambda: {"class": "server", "attr": f"hostname=ser-{rng.randrange(servers):06d}"},
                lambda: {"class": "application", "q": f"app-{rng.randrange(100):03d}", "limit": 20},
                lambda: {"class": "server", "attr": f"cpu_cores={2 ** rng.randrange(6)}", "limit": 50},
            ]
            searches: list[float] = []
            for i in range(150 if args.quick else 300):
                t0 = time.perf_counter()
                r = http.get(f"{base}/cis", params=queries[i % 3]())
                searches.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
        memory = peak_rss_mb(api.pid)
    finally:
        api.terminate()
        api.wait(30)
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"impact depth 5 (both ways) from the core service reaches {reached} CIs")
    print(
        json.dumps(
            {
                "cis": report.created,
                "relations": report.relations_created,
                "import_s": round(import_s, 1),
                "impact_p50_ms": round(percentile(impacts, 50), 1),
                "impact_p99_ms": round(percentile(impacts, 99), 1),
                "search_p99_ms": round(percentile(searches, 99), 1),
                "database": database,
                "impact_reached": reached,
                "impact_first_ms": round(first_ms, 1),
                "search_p50_ms": round(percentile(searches, 50), 1),
                "api_peak_rss_mb": round(memory, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
