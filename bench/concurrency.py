"""Concurrency benchmark (issue 12): many people act on one record at once; is anything lost?

Against `itilflow dev` (started here in a temporary data dir), each round
1. starts an incident (requester), accepts it (agent), and sends `--clients` concurrent actions to it:
   comments from the requester and the agent, and every fifth one a field edit by the agent;
2. starts a change, takes it to the CAB, and sends the two CAB members' decisions (one approves, one
   rejects) at the same moment as `--clients` / 5 comments.
After each burst the audit trail and read model are compared with the workflow's own history
(`client/audit_check.py`, as `itilflow audit verify` does): every Update that Temporal completed
must be in the audit trail once, at its sequence number, with its actor and content.

Run from the project root: `.venv/bin/python -m bench.concurrency [--quick] [--clients N] [--rounds R]`.
The last line is one JSON object: `rounds`, `clients`, `acknowledged` (2xx answers), `lost`,
`duplicated`, `outcome_mismatches` (read model differs from the workflow: state, fields, approvals),
`actions_per_s` (acknowledged actions per second of burst). Goal: lost = duplicated = mismatches = 0
at 50 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp

from bench.common import Target, change_plan, dev_subprocess
from client.audit_check import compare
from client.connection import connect
from core.db import make_engine


class Burst:
    def __init__(self, target: Target, clients: int) -> None:
        self.t = target
        self.http = aiohttp.ClientSession(
            base_url=target.base,
            timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=clients * 2),
        )
        self.acknowledged = 0
        self.refused = 0
        self.burst_seconds = 0.0

    async def send(self, method: str, user: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.t.tokens[user]}", "Idempotency-Key": uuid.uuid4().hex}
        async with self.http.request(method, path, json=body, headers=headers) as r:
            content = await r.read()
        if r.status in (200, 201):
            data: dict[str, Any] = json.loads(content)
            return data
        if r.status == 409:  # refused by a rule (a decision after the outcome): acknowledged as refused
            self.refused += 1
            return None
        raise SystemExit(f"{method} {path} as {user}: {r.status} {content[:300]!r}")

    async def timed(self, jobs: list[Any]) -> list[Any]:
        t0 = time.perf_counter()
        out = await asyncio.gather(*jobs)
        self.burst_seconds += time.perf_counter() - t0
        acked = sum(1 for o in out if o is not None)
        self.acknowledged += acked
        return out

    async def incident_round(self, clients: int) -> str:
        body = {"definition": "incident", "title": "Concurrency", "fields": {"impact": "3", "urgency": "3"}}
        rec = await self.send("POST", "requester", "/api/v1/processes", body)
        assert rec is not None
        rid = rec["id"]
        await self.send(
            "POST",
            "agent",
            f"/api/v1/processes/{rid}/transitions",
            {"trigger": "accept", "fields": {"assignee": "agent"}},
        )
        jobs = []
        for i in range(clients):
            if i % 5 == 4:
                urgency = ["1", "2", "3"][i % 3]
                jobs.append(
                    self.send("PATCH", "agent", f"/api/v1/processes/{rid}", {"fields": {"urgency": urgency}})
                )
            else:
                user = "requester" if i % 2 else "agent"
                jobs.append(
                    self.send(
                        "POST", user, f"/api/v1/processes/{rid}/comments", {"body": f"{i} {uuid.uuid4().hex}"}
                    )
                )
        await self.timed(jobs)
        return rid

    async def change_round(self, clients: int) -> str:
        plan = change_plan()
        body = {"definition": "change", "title": "Concurrent CAB", "fields": {"change_type": "normal"}}
        chg = await self.send("POST", "requester", "/api/v1/processes", body)
        assert chg is not None
        rid = chg["id"]
        transitions = f"/api/v1/processes/{rid}/transitions"
        body = {"trigger": "assess", "fields": {"assignee": "change_manager"}}
        await self.send("POST", "change_manager", transitions, body)
        snap = await self.send("POST", "change_manager", transitions, {"trigger": "submit", "fields": plan})
        assert snap is not None
        task = next(a for a in snap["approvals"] if a["state"] == "pending")
        url = f"/api/v1/approvals/{task['id']}/decision"
        jobs = [
            self.send("POST", "cab1", url, {"decision": "approve"}),
            self.send("POST", "cab2", url, {"decision": "reject", "comment": "not now"}),
        ]
        jobs += [
            self.send(
                "POST",
                "requester" if i % 2 else "change_manager",
                f"/api/v1/processes/{rid}/comments",
                {"body": uuid.uuid4().hex},
            )
            for i in range(max(2, clients // 5))
        ]
        await self.timed(jobs)
        return rid


async def run(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    client = await connect(target.temporal_address)
    engine = make_engine(target.database_url)
    burst = Burst(target, args.clients)
    lost = duplicated = mismatches = 0
    try:
        for n in range(args.rounds):
            for record in (await burst.incident_round(args.clients), await burst.change_round(args.clients)):
                result = await compare(client, engine, record)
                lost += len(result.lost)
                duplicated += len(result.duplicated)
                mismatches += len(result.mismatches)
                if not result.ok:
                    print(f"round {n + 1}, record {record}: {result.describe()}", flush=True)
            print(f"round {n + 1}/{args.rounds}: {burst.acknowledged} acknowledged so far", flush=True)
    finally:
        await burst.http.close()
        engine.dispose()
    return {
        "rounds": args.rounds,
        "clients": args.clients,
        "acknowledged": burst.acknowledged,
        "refused": burst.refused,
        "lost": lost,
        "duplicated": duplicated,
        "outcome_mismatches": mismatches,
        "actions_per_s": round(burst.acknowledged / burst.burst_seconds, 1) if burst.burst_seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds (under three minutes)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients per record (50)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (20; 5 with --quick)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 5 if args.quick else 20
    with dev_subprocess(args.log_level) as target:
        figures = asyncio.run(run(args, target))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
