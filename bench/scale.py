"""Scale (issue 19): figures, not pass/fail, on the production topology (bench/topology.py: the official
Temporal server on a PostgreSQL of its own, the read model in it, `itilflow worker` and `itilflow api`
processes).

1. throughput, one worker: lifecycles of bench/fixtures/lifecycle.yaml (a start and five actions)
   through the Temporal client, 20 in flight: starts + actions per second.
2. open records: `--open` records started on the one worker, whose workflow cache is bounded
   (`worker_max_cached_workflows`, `--cache`); then comments on the newest records (in the cache) and
   on the oldest (evicted, replayed from their history on demand): the latency that eviction costs,
   and the worker's peak RSS (VmHWM).
3. SLA deadlines: `--deadlines` records whose business-hours clocks all open at the same minute, so
   that their deadlines fall on the same instant (bench/scale_deadlines.py), the lag from that
   instant to each escalation.
4. throughput, two workers: a second worker joins; the same lifecycles again.
5. the HTTP API: comments on incidents through one API process by 20, then 100 concurrent clients.

`.venv/bin/python -m bench.scale [--quick]`; the last line is one JSON object: open_records,
worker_rss_mb, deadlines, timer_lag_p50_ms, timer_lag_p99_ms, one_worker_per_s, two_workers_per_s,
action_p99_ms_20, action_p99_ms_100.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine
from temporalio.client import Client

from bench.common import percentile, pool, timed
from bench.engine import (
    REQUESTER,
    Timings,
    describe,
    engine_lifecycle,
    fixture,
    seed_directory,
)
from bench.scale_deadlines import opening_deadlines
from bench.topology import Service, Topology, seed
from client.connection import connect
from client.launch import launch_record
from core.db import make_engine
from workflows.contracts import Actor, AddCommentInput
from workflows.process import ProcessWorkflow

AGENT = Actor(username="bench_agent", roles=["agent"], groups=["bench_desk"])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


async def throughput(client: Client, engine: Engine, lifecycles: int, in_flight: int) -> float:
    """Starts + actions per second over `lifecycles` lifecycles (six steps each), after a warm-up."""
    pinned = fixture("lifecycle.yaml")
    t = Timings()
    await pool(10, in_flight, lambda _: engine_lifecycle(client, engine, "itilflow", pinned, t))
    wall = await pool(
        lifecycles, in_flight, lambda _: engine_lifecycle(client, engine, "itilflow", pinned, t)
    )
    per_s = lifecycles * 6 / wall
    print(f"      {per_s:.1f} starts+actions/s ({lifecycles} lifecycles in {wall:.1f} s)", flush=True)
    return per_s


async def open_records(
    client: Client, engine: Engine, count: int, sample: int, worker: Service
) -> tuple[float, list[float], list[float], float]:
    """Start `count` records; comment on the newest and the oldest `sample`; the worker's peak RSS."""
    pinned = fixture("lifecycle.yaml")
    ids = [uuid.uuid4().hex[:20] for _ in range(count)]
    t0 = time.perf_counter()

    async def start(i: int) -> None:
        await launch_record(
            client,
            engine,
            task_queue="itilflow",
            pinned=pinned,
            record_id=ids[i],
            title="Open record",
            fields={},
            actor=REQUESTER,
        )

    await pool(count, 50, start)
    started_s = time.perf_counter() - t0
    print(f"      {count} records started in {started_s:.0f} s", flush=True)

    async def comments(records: list[str]) -> list[float]:
        out: list[float] = []

        async def one(i: int) -> None:
            handle = client.get_workflow_handle_for(ProcessWorkflow.run, records[i])
            inp = AddCommentInput(actor=AGENT, body=f"scale {i}")
            await timed(out, handle.execute_update(ProcessWorkflow.add_comment, inp, id=uuid.uuid4().hex))

        await pool(len(records), 10, one)
        return out

    cached = await comments(ids[-sample:])
    evicted = await comments(ids[:sample])
    return peak_rss_mb(worker.pid), cached, evicted, started_s / count


async def api_actions(base: str, tokens: dict[str, str], clients: int, actions: int) -> list[float]:
    """Comments through the API on incidents (started first), `clients` at a time: their latencies."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(
        base_url=base, connector=aiohttp.TCPConnector(limit=clients * 2)
    ) as http:

        async def post(user: str, path: str, body: dict[str, Any], into: list[float] | None) -> Any:
            headers = {"Authorization": f"Bearer {tokens[user]}", "Idempotency-Key": uuid.uuid4().hex}
            t0 = time.perf_counter()
            async with http.post(path, json=body, headers=headers) as r:
                data = await r.json()
                if r.status >= 300:
                    raise RuntimeError(f"{path}: {r.status} {data}")
            if into is not None:
                into.append((time.perf_counter() - t0) * 1000)
            return data

        records: list[str] = []

        async def start(_: int) -> None:
            body = {"definition": "incident", "title": "Scale", "fields": {"impact": "3", "urgency": "3"}}
            records.append((await post("requester", "/api/v1/processes", body, None))["id"])

        await pool(clients, 20, start)

        async def comment(i: int) -> None:
            rid = records[i % len(records)]
            await post("agent", f"/api/v1/processes/{rid}/comments", {"body": f"c{i}"}, latencies)

        await pool(min(clients, 20), clients, comment)  # warm-up
        latencies.clear()
        await pool(actions, clients, comment)
    return latencies


async def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    env = {"ITILFLOW_WORKER_MAX_CACHED_WORKFLOWS": str(args.cache)}
    with Topology(root, workers=1, apis=1, worker_env=env) as topology:
        topology.start_infrastructure()
        tokens = await asyncio.to_thread(seed, topology.database_url, root / "tokens.json")
        engine = make_engine(topology.database_url)
        seed_directory(engine)
        await asyncio.to_thread(topology.start_services)
        client = await connect(topology.temporal_address)
        worker = topology.worker_procs[0]
        print(f"Temporal {topology.temporal_address} on PostgreSQL :{topology.pg.port}; 1 worker, 1 API")
        print("load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

        print(f"[1/5] throughput, one worker: {args.lifecycles} lifecycles, 20 in flight", flush=True)
        one = await throughput(client, engine, args.lifecycles, 20)

        print(f"[2/5] {args.open} open records, worker cache {args.cache} records", flush=True)
        rss, cached, evicted, per_start = await open_records(client, engine, args.open, args.sample, worker)
        print(f"      comment on a cached record  {describe(cached)}")
        print(f"      comment on an evicted record {describe(evicted)}")
        print(f"      worker peak RSS {rss:.0f} MB", flush=True)

        print(f"[3/5] {args.deadlines} SLA deadlines due at the same instant (clocks opening)", flush=True)
        lags = await opening_deadlines(client, engine, args.deadlines, per_start)
        print(f"      lag from deadline to escalation {describe(lags)}", flush=True)

        print("[4/5] throughput, two workers", flush=True)
        topology.workers = 2
        second = Service("worker1", worker.command, worker.env, root / "worker1.log")
        topology.worker_procs.append(await asyncio.to_thread(second.start))
        two = await throughput(client, engine, args.lifecycles, 20)

        print(f"[5/5] the HTTP API: {args.api_actions} comments by 20, then 100 clients", flush=True)
        base = topology.api_urls[0]
        p99: dict[int, float] = {}
        for clients in (20, 100):
            lat = await api_actions(base, tokens, clients, args.api_actions)
            p99[clients] = percentile(lat, 99)
            print(f"      {clients} clients: {describe(lat)}", flush=True)
        engine.dispose()
    print("load average (1, 5, 15 min) at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return {
        "open_records": args.open,
        "worker_rss_mb": round(rss, 1),
        "deadlines": args.deadlines,
        "timer_lag_p50_ms": round(percentile(lags, 50), 1),
        "timer_lag_p99_ms": round(percentile(lags, 99), 1),
        "one_worker_per_s": round(one, 1),
        "two_workers_per_s": round(two, 1),
        "action_p99_ms_20": round(p99[20], 1),
        "action_p99_ms_100": round(p99[100], 1),
        "evicted_comment_p50_ms": round(percentile(evicted, 50), 1),
        "cached_comment_p50_ms": round(percentile(cached, 50), 1),
    }


LAST_LINE = (
    "open_records",
    "worker_rss_mb",
    "deadlines",
    "timer_lag_p50_ms",
    "timer_lag_p99_ms",
    "one_worker_per_s",
    "two_workers_per_s",
    "action_p99_ms_20",
    "action_p99_ms_100",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts: under five minutes")
    parser.add_argument("--open", type=int, help="open records on one worker (default 10,000; quick 1,000)")
    parser.add_argument("--cache", type=int, help="worker_max_cached_workflows (default 1,000; quick 200)")
    parser.add_argument(
        "--deadlines", type=int, help="coinciding SLA deadlines (default 10,000; quick 1,000)"
    )
    parser.add_argument("--lifecycles", type=int, help="per throughput round (default 300; quick 40)")
    parser.add_argument("--api-actions", type=int, help="API comments per round (default 2,000; quick 300)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.open = args.open or (1000 if quick else 10000)
    args.cache = args.cache or (200 if quick else 1000)
    args.deadlines = args.deadlines or (1000 if quick else 10000)
    args.lifecycles = args.lifecycles or (40 if quick else 300)
    args.api_actions = args.api_actions or (300 if quick else 2000)
    args.sample = 50 if quick else 200
    with tempfile.TemporaryDirectory(prefix="itilflow-scale-") as tmp:
        figures = asyncio.run(run(args, Path(tmp)))
    cached, evicted = figures["cached_comment_p50_ms"], figures["evicted_comment_p50_ms"]
    print(f"comment p50: cached {cached} ms, evicted {evicted} ms")
    print(json.dumps({k: figures[k] for k in LAST_LINE}))


if __name__ == "__main__":
    main()
