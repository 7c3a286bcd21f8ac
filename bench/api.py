"""API benchmark (issue 3): figures, not pass/fail.

Against `itilflow dev` (started here as a subprocess in a temporary data dir, or a running one given
with --url and --tokens-file), with `--clients` concurrent clients (default 20):

1. starts: records of the library `incident` started through `POST /api/v1/processes` (with an
   Idempotency-Key, as integrators send it), and the same number started directly through the Temporal
   client with `activities.launch.launch_record` (same pinned definition, same concurrency, same
   read-your-writes wait for the first state). Two rounds, API-then-direct and direct-then-API, so
   neither side always runs on the larger database. Reports records started per second for both.
2. actions: each API-started incident goes accept -> resolve (agent) -> confirm (requester), and
   `--changes` changes go assess -> submit (change manager) -> two CAB approvals (cab1, cab2). Latency
   is measured from sending the request to receiving the response that already shows the new state
   (the response is checked: a wrong state counts as an error and is reported).

Run from the project root: `.venv/bin/python -m bench.api [--quick]`. The last line is one JSON object:
`api_starts_per_s`, `direct_starts_per_s`, `start_ratio`, `action_p50_ms`, `action_p99_ms`.
Targets (reported, not asserted): start_ratio >= 0.8, action_p99_ms < 300.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import CpuMeter, Target, change_plan, dev_subprocess, ms_per_item, percentile, pool
from client.connection import connect
from client.launch import launch_record, pinned_definition, record_id_for
from core.db import make_engine
from workflows.contracts import Actor, FireTransitionInput
from workflows.process import ProcessWorkflow


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # (kind, wall-clock end, milliseconds) of every request, for --timeline.
    timeline: list[tuple[str, float, float]] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds * 1000)
        self.timeline.append((kind, time.time(), seconds * 1000))

    def all(self, kinds: tuple[str, ...]) -> list[float]:
        return [v for k in kinds for v in self.latencies.get(k, [])]


class Bench:
    def __init__(self, target: Target, clients: int) -> None:
        self.t = target
        self.clients = clients
        # aiohttp, not httpx: the load generator shares the two cores with what it measures, and
        # httpx spent about twice the CPU per request (bench/README.md).
        self.http = aiohttp.ClientSession(
            base_url=target.base,
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(limit=clients * 2),
        )
        self.stats = Stats()
        self.incidents: list[str] = []
        self.direct_incidents: list[str] = []

    async def post(self, user: str, path: str, body: dict[str, Any], kind: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.t.tokens[user]}", "Idempotency-Key": uuid.uuid4().hex}
        t0 = time.perf_counter()
        async with self.http.post(path, json=body, headers=headers) as r:
            content = await r.read()  # the whole response, as a client needs it to see the new state
        self.stats.add(kind, time.perf_counter() - t0)
        if r.status not in (200, 201):
            self.stats.errors.append(f"{kind} as {user}: {r.status} {content[:200]!r}")
            return {}
        data: dict[str, Any] = json.loads(content)
        return data

    async def fire(self, user: str, record: str, trigger: str, expect: str, **fields: Any) -> dict[str, Any]:
        snap = await self.post(
            user,
            f"/api/v1/processes/{record}/transitions",
            {"trigger": trigger, "fields": fields},
            "transition",
        )
        if snap and snap.get("state") != expect:
            self.stats.errors.append(f"{trigger}: expected {expect}, the response showed {snap.get('state')}")
        return snap

    # starts

    async def api_starts(self, n: int) -> float:
        async def one(i: int) -> None:
            body = {
                "definition": "incident",
                "title": f"Bench incident {i}",
                "fields": {"impact": "3", "urgency": "3", "category": "software"},
            }
            snap = await self.post("requester", "/api/v1/processes", body, "api_start")
            if snap.get("state") == "new":
                self.incidents.append(snap["id"])
            elif snap:
                self.stats.errors.append(f"start: the response showed {snap.get('state')}")

        return await pool(n, self.clients, one)

    async def direct_starts(self, n: int) -> float:
        engine = make_engine(self.t.database_url)
        client = await connect(self.t.temporal_address)
        pinned = pinned_definition(engine, "incident")  # the version the API uses: newest published
        actor = Actor(username="requester", roles=["requester"], groups=[])

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            snap = await launch_record(
                client,
                engine,
                task_queue="itilflow",
                pinned=pinned,
                record_id=record_id_for(None),
                title=f"Direct incident {i}",
                fields={"impact": "3", "urgency": "3", "category": "software"},
                actor=actor,
            )
            self.stats.add("direct_start", time.perf_counter() - t0)
            if snap.state != "new":
                self.stats.errors.append(f"direct start: {snap.state}")
            else:
                self.direct_incidents.append(snap.id)

        try:
            return await pool(n, self.clients, one)
        finally:
            engine.dispose()

    # actions

    async def incident_actions(self) -> float:
        async def one(i: int) -> None:
            rid = self.incidents[i]
            if not await self.fire("agent", rid, "accept", "in_progress", assignee="agent"):
                return
            if not await self.fire(
                "agent",
                rid,
                "resolve",
                "resolved",
                resolution_code="solved_permanently",
                resolution_notes="bench",
            ):
                return
            await self.fire("requester", rid, "confirm", "closed")

        return await pool(len(self.incidents), self.clients, one)

    async def direct_incident_actions(self) -> float:
        """The same three transitions as `incident_actions`, sent as Temporal updates by this process:
        the floor that the API's authentication, idempotency record and HTTP add to."""
        client = await connect(self.t.temporal_address)
        agent = Actor(username="agent", roles=["agent", "service_desk"], groups=["service_desk"])
        requester = Actor(username="requester", roles=["requester"], groups=[])
        steps: list[tuple[Actor, str, str, dict[str, Any]]] = [
            (agent, "accept", "in_progress", {"assignee": "agent"}),
            (
                agent,
                "resolve",
                "resolved",
                {"resolution_code": "solved_permanently", "resolution_notes": "bench"},
            ),
            (requester, "confirm", "closed", {}),
        ]

        async def one(i: int) -> None:
            handle = client.get_workflow_handle_for(ProcessWorkflow.run, self.direct_incidents[i])
            for actor, trigger, expect, fields in steps:
                t0 = time.perf_counter()
                try:
                    snap = await handle.execute_update(
                        ProcessWorkflow.fire_transition,
                        FireTransitionInput(actor=actor, trigger=trigger, fields=fields),
                        id=uuid.uuid4().hex,
                    )
                except Exception as exc:  # noqa: BLE001 - reported with the figures
                    self.stats.errors.append(f"direct {trigger}: {exc}")
                    return
                self.stats.add("direct_transition", time.perf_counter() - t0)
                if snap.state != expect:
                    self.stats.errors.append(f"direct {trigger}: expected {expect}, got {snap.state}")
                    return

        return await pool(len(self.direct_incidents), self.clients, one)

    async def change_actions(self, n: int) -> float:
        plan = change_plan()

        async def one(i: int) -> None:
            body = {"definition": "change", "title": f"Bench change {i}", "fields": {"change_type": "normal"}}
            chg = await self.post("requester", "/api/v1/processes", body, "change_start")
            if not chg:
                return
            rid = chg["id"]
            if not await self.fire("change_manager", rid, "assess", "assessment", assignee="change_manager"):
                return
            snap = await self.fire("change_manager", rid, "submit", "cab_review", **plan)
            pending = [a for a in snap.get("approvals", []) if a["state"] == "pending"]
            if not pending:
                self.stats.errors.append(f"change {rid}: no pending approval after submit")
                return
            url = f"/api/v1/approvals/{pending[0]['id']}/decision"
            for user, task_state, record_state in (
                ("cab1", "pending", "cab_review"),
                ("cab2", "approved", "scheduled"),
            ):
                out = await self.post(user, url, {"decision": "approve"}, "approval")
                got = (out["state"], out["record"]["state"]) if out else None
                if got and got != (task_state, record_state):
                    self.stats.errors.append(f"{user}: expected {task_state}/{record_state}, got {got}")

        return await pool(n, self.clients, one)


async def run(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    b = Bench(target, args.clients)
    try:
        print(f"warm-up: {args.clients} starts each way", flush=True)
        await b.api_starts(args.clients)
        await b.direct_starts(args.clients)
        b.stats = Stats()
        b.incidents.clear()
        b.direct_incidents.clear()

        half = args.records // 2
        api_time = direct_time = 0.0
        start_cpu: dict[str, dict[str, float]] = {"api": {}, "direct": {}}

        async def timed(way: str, starts: Awaitable[float]) -> float:
            meter = CpuMeter(target.pids)
            seconds = await starts
            for name, spent in meter.spent().items():
                start_cpu[way][name] = start_cpu[way].get(name, 0.0) + spent
            return seconds

        api_time += await timed("api", b.api_starts(half))
        direct_time += await timed("direct", b.direct_starts(half))
        direct_time += await timed("direct", b.direct_starts(args.records - half))
        api_time += await timed("api", b.api_starts(args.records - half))
        api_rate, direct_rate = args.records / api_time, args.records / direct_time
        api_l, direct_l = b.stats.all(("api_start",)), b.stats.all(("direct_start",))
        print(
            f"starts: {args.records} each, {args.clients} clients: API {api_rate:.1f}/s "
            f"(p50 {percentile(api_l, 50):.0f} ms, p99 {percentile(api_l, 99):.0f} ms), "
            f"direct {direct_rate:.1f}/s "
            f"(p50 {percentile(direct_l, 50):.0f} ms, p99 {percentile(direct_l, 99):.0f} ms)",
            flush=True,
        )
        if target.pids:
            for way, spent in start_cpu.items():
                print(f"CPU ms per {way} start: {ms_per_item(spent, args.records)}", flush=True)

        meter = CpuMeter(target.pids)
        t_inc = await b.incident_actions()
        t_chg = await b.change_actions(args.changes)
        api_cpu = meter.per_item_ms(len(b.stats.all(("transition", "approval"))))
        meter = CpuMeter(target.pids)
        t_direct = await b.direct_incident_actions()
        direct_cpu = meter.per_item_ms(len(b.stats.all(("direct_transition",))))
        for kind in ("transition", "approval", "change_start", "direct_transition"):
            values = b.stats.all((kind,))
            print(
                f"{kind}: n={len(values)} p50 {percentile(values, 50):.0f} ms "
                f"p90 {percentile(values, 90):.0f} ms "
                f"p99 {percentile(values, 99):.0f} ms max {max(values, default=float('nan')):.0f} ms",
                flush=True,
            )
        if args.timeline:
            with open(args.timeline, "w", encoding="utf-8") as out:
                out.write("kind,end_unix_s,ms\n")
                out.writelines(f"{k},{end:.4f},{ms:.1f}\n" for k, end, ms in b.stats.timeline)
        actions = b.stats.all(("transition", "approval"))
        print(f"actions: {len(actions)} in {t_inc + t_chg:.1f} s ({len(actions) / (t_inc + t_chg):.1f}/s)")
        direct = b.stats.all(("direct_transition",))
        print(f"direct transitions (Temporal client, no HTTP): {len(direct)} in {t_direct:.1f} s")
        if target.pids:
            print(f"CPU ms per action through the API (change starts included): {api_cpu}")
            print(f"CPU ms per direct transition: {direct_cpu}", flush=True)
        if b.stats.errors:
            print(f"errors: {len(b.stats.errors)}; first: " + " | ".join(b.stats.errors[:3]), flush=True)
        return {
            "api_starts_per_s": round(api_rate, 2),
            "direct_starts_per_s": round(direct_rate, 2),
            "start_ratio": round(api_rate / direct_rate, 3),
            "action_p50_ms": round(percentile(actions, 50), 1),
            "action_p99_ms": round(percentile(actions, 99), 1),
        }
    finally:
        await b.http.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.api", description=__doc__.split("\n\n")[0] if __doc__ else "")
    p.add_argument("--quick", action="store_true", help="60 records and 10 changes")
    p.add_argument("--records", type=int, default=200, help="records started each way (API, direct)")
    p.add_argument("--changes", type=int, default=40, help="changes taken through CAB approval")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--url", help="a running `itilflow dev` (default: start one in a temporary dir)")
    p.add_argument("--tokens-file", help="its demo-tokens.json (with --url)")
    p.add_argument(
        "--database-url", help="its database (with --url; default: sqlite in the tokens file's dir)"
    )
    p.add_argument("--temporal-address", default="127.0.0.1:7233", help="its Temporal server (with --url)")
    p.add_argument("--log-level", default="warning", help="log level of the started `itilflow dev`")
    p.add_argument(
        "--timeline", metavar="CSV", help="write every measured request (kind, end time, ms) to this file"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.records, args.changes = 60, 10

    if args.url:
        if not args.tokens_file:
            p.error("--url needs --tokens-file")
        tokens_path = Path(args.tokens_file)
        tokens = {u: i["token"] for u, i in json.loads(tokens_path.read_text()).items()}
        db = args.database_url or f"sqlite:///{tokens_path.resolve().parent / 'itilflow.db'}"
        result = asyncio.run(run(args, Target(args.url.rstrip("/"), tokens, db, args.temporal_address)))
    else:
        with dev_subprocess(args.log_level) as target:
            result = asyncio.run(run(args, target))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
