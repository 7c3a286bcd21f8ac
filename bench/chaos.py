"""Chaos under load (issue 19): figures, not pass/fail.

Against the production topology on this machine (bench/topology.py: a PostgreSQL of its own, the
official Temporal server on it, two `itilflow worker` and two `itilflow api` processes, the read model
in the same PostgreSQL), a steady load through the HTTP API (bench/chaos_load.py: incidents started,
accepted, commented and resolved; changes assessed, submitted and approved by two CAB members;
records whose 20-second SLA warns at 10 s and breaches at 20 s), while in each cycle:

1. a worker is killed with SIGKILL (and started again, as a service manager would);
2. an API process is killed with SIGKILL while requests are in flight on it (and started again);
3. the Temporal server is killed with SIGKILL and started again;
4. PostgreSQL stops as in a crash (`pg_ctl -m immediate`) and starts again.

Recovery of a fault: seconds from the fault until a comment on each probe record succeeds through
every API process. Afterwards (bench/chaos_check.py), from outside: every acknowledged request exactly
once in the audit trail, every record's read model equal to its workflow's history and state, every
SLA threshold that fell due recorded exactly once, no workflow stuck, every replayed Idempotency-Key
answered as the first time.

`.venv/bin/python -m bench.chaos [--quick] [--cycles N] [--clients N]`; `--quick`: three cycles.
The last line is one JSON object: acknowledged, lost, duplicated, thresholds_due, thresholds_fired,
cycles, recovery_p99_s (per kind of fault).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.chaos_check import Verdict, settle, summary, verify
from bench.chaos_load import Ledger, Load
from bench.common import percentile
from bench.topology import Topology, seed
from client.connection import connect
from core.db import make_engine

FIXTURE = Path(__file__).parent / "fixtures" / "chaos_sla.yaml"
FAULTS = ("worker", "api", "temporal", "postgres")
LAST_LINE = (
    "acknowledged",
    "lost",
    "duplicated",
    "thresholds_due",
    "thresholds_fired",
    "cycles",
    "recovery_p99_s",
)


def _inject(topology: Topology, load: Load, kind: str, cycle: int) -> Callable[[], object]:
    """The fault of `kind`, as a blocking call that also brings the killed part back."""
    if kind == "worker":
        svc = topology.worker_procs[cycle % len(topology.worker_procs)]
        svc.kill()
        return svc.start
    if kind == "api":
        idx = cycle % len(topology.api_procs)
        svc = topology.api_procs[idx]
        deadline = time.monotonic() + 10
        while load.in_flight[idx] == 0 and time.monotonic() < deadline:
            time.sleep(0.005)  # kill it mid-request
        svc.kill()
        return svc.start
    if kind == "temporal":
        topology.cluster.kill()
        return topology.cluster.start
    topology.pg.stop("immediate")
    return topology.pg.start


async def fault(topology: Topology, load: Load, kind: str, cycle: int, probes: list[str]) -> float:
    at = time.monotonic()
    restart = await asyncio.to_thread(_inject, topology, load, kind, cycle)
    restarting = asyncio.create_task(asyncio.to_thread(restart))
    recovery = await load.recovered_after(at, probes)
    await restarting
    return recovery


async def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    t0 = time.monotonic()
    env = {"ITILFLOW_WORKER_STICKY_TIMEOUT": str(args.sticky_timeout)} if args.sticky_timeout else {}
    with Topology(root, worker_env=env) as topology:
        topology.start_infrastructure()
        tokens = await asyncio.to_thread(seed, topology.database_url, root / "tokens.json", [FIXTURE])
        await asyncio.to_thread(topology.start_services)
        print(
            f"topology up in {time.monotonic() - t0:.0f} s: Temporal {topology.temporal_address} "
            f"({topology.shards} shards) on PostgreSQL :{topology.pg.port}, "
            f"{len(topology.worker_procs)} workers, APIs {', '.join(topology.api_urls)}",
            flush=True,
        )
        print("load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        load = Load(topology.api_urls, tokens)
        try:
            probes = [p for p in [await load.start(i, "agent", "chaossla", _SLA) for i in range(2)] if p]
            running = asyncio.create_task(load.run(args.clients))
            await asyncio.sleep(args.pause)
            recoveries: dict[str, list[float]] = {k: [] for k in FAULTS}
            for cycle in range(args.cycles):
                for kind in FAULTS:
                    seconds = await fault(topology, load, kind, cycle, probes)
                    recoveries[kind].append(seconds)
                    print(
                        f"cycle {cycle + 1}/{args.cycles} {kind:8s} recovered in {seconds:5.1f} s "
                        f"({len(load.ledger.acks)} acknowledged so far)",
                        flush=True,
                    )
                    await asyncio.sleep(args.pause)
            load.stop.set()
            await running
        finally:
            await load.close()
        ledger = load.ledger
        engine = make_engine(topology.database_url)
        print("load stopped; waiting for thresholds due and checking", flush=True)
        await settle(engine, ledger, limit=90)
        client = await connect(topology.temporal_address)
        verdict = await verify(client, engine, ledger)
        engine.dispose()
        report(ledger, verdict, recoveries)
    print(f"total {time.monotonic() - t0:.0f} s")
    p99 = {k: round(percentile(v, 99), 2) for k, v in recoveries.items()}
    figures = {**summary(verdict), "cycles": args.cycles, "recovery_p99_s": p99}
    # Not on the last line (its keys are fixed), for the test: what else must be zero.
    checks = {
        "mismatches": len(verdict.mismatches),
        "stuck": len(verdict.stuck),
        "replay_mismatches": len(ledger.replay_mismatches),
        "errors": len(ledger.errors),
    }
    return {**figures, **checks}


_SLA = {"impact": "a", "urgency": "a"}


def report(ledger: Ledger, verdict: Verdict, recoveries: dict[str, list[float]]) -> None:
    kinds = _counts(ledger)
    print(f"acknowledged {len(ledger.acks)} requests ({kinds}); {ledger.retried} needed a retry")
    print(f"records {len(ledger.definitions)}; errors {len(ledger.errors)}")
    print(f"Idempotency-Key replays {ledger.replays}, answered differently {len(ledger.replay_mismatches)}")
    for kind, values in recoveries.items():
        print(f"recovery after {kind}: " + ", ".join(f"{v:.1f}" for v in values) + " s")
    for name, items in (
        ("lost", verdict.lost),
        ("duplicated", verdict.duplicated),
        ("read model differs from the workflow", verdict.mismatches),
        ("stuck", verdict.stuck),
        ("answered differently on replay", ledger.replay_mismatches),
        ("errors", ledger.errors),
    ):
        print(f"{name}: {len(items)}")
        for item in items[:10]:
            print(f"  {item}")
    print(f"thresholds due {verdict.thresholds_due}, fired once {verdict.thresholds_fired}")


def _counts(ledger: Ledger) -> str:
    counts: dict[str, int] = {}
    for ack in ledger.acks:
        counts[ack.kind] = counts.get(ack.kind, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three cycles, under five minutes")
    parser.add_argument("--cycles", type=int, help="fault cycles (default 10; each kills all four parts)")
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients of the load (default 6)")
    parser.add_argument("--pause", type=float, help="seconds of load between faults (default 5, quick 3)")
    parser.add_argument(
        "--sticky-timeout", type=float, help="the workers' worker_sticky_timeout in seconds (default theirs)"
    )
    args = parser.parse_args(argv)
    args.cycles = args.cycles or (3 if args.quick else 10)
    args.pause = args.pause if args.pause is not None else (3.0 if args.quick else 5.0)
    with tempfile.TemporaryDirectory(prefix="itilflow-chaos-") as tmp:
        figures = asyncio.run(run(args, Path(tmp)))
    print(json.dumps({k: figures[k] for k in LAST_LINE}))


if __name__ == "__main__":
    main()
