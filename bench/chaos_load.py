"""The chaos benchmark's steady load through the HTTP API, and its ledger of what was acknowledged.

Each client sends its requests to one API process and, when a request gets no answer (connection
refused or reset, a timeout, a 5xx), sends it again with the same `Idempotency-Key` to the next API
process, as an integrator behind a load balancer would, until it is answered (or three minutes
pass). Every 2xx answer is an acknowledgement, written to the ledger with what must now be in the
audit trail exactly once. A share of acknowledged requests is sent once more with the same key to
the other API process, whose answer must equal the first (the stored answer, replayed).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bench.common import change_plan

GIVE_UP_S = 180.0
ATTEMPT_TIMEOUT_S = 30.0


@dataclass
class Ack:
    """An acknowledged request: what must be in the audit trail exactly once."""

    kind: str  # start, transition, comment, approval
    record: str
    user: str
    detail: str  # the trigger, the comment's text, the deciding approver, the definition
    key: str


@dataclass
class Ledger:
    acks: list[Ack] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)  # record id -> definition key
    last_state: dict[str, str] = field(default_factory=dict)  # record id -> state in the last answer
    retried: int = 0  # acknowledged only after more than one attempt
    replays: int = 0
    replay_mismatches: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Load:
    def __init__(self, apis: list[str], tokens: dict[str, str], *, replay_share: float = 0.2) -> None:
        self.apis = apis
        self.tokens = tokens
        self.replay_share = replay_share
        self.ledger = Ledger()
        self.in_flight = [0] * len(apis)
        self.stop = asyncio.Event()
        self.rng = random.Random(19)
        self._changes = 0
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT_S),
            connector=aiohttp.TCPConnector(limit=200, force_close=False),
        )

    async def close(self) -> None:
        await self.http.close()

    async def _attempt(self, api: int, user: str, path: str, body: Any, key: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Idempotency-Key": key}
        self.in_flight[api] += 1
        try:
            async with self.http.post(self.apis[api] + path, json=body, headers=headers) as r:
                raw = await r.read()
                return r.status, json.loads(raw) if raw else None
        finally:
            self.in_flight[api] -= 1

    async def send(self, client: int, user: str, path: str, body: Any) -> Any | None:
        """POST until answered; the answer's body on 2xx (acknowledged), else None (recorded)."""
        key = uuid.uuid4().hex
        started = time.monotonic()
        attempt = 0
        while True:
            api = (client + attempt) % len(self.apis)
            attempt += 1
            try:
                status, answer = await self._attempt(api, user, path, body, key)
                if status < 500 and status != 429:
                    break
            except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError):
                pass
            if time.monotonic() - started > GIVE_UP_S:
                self.ledger.errors.append(f"{path}: no answer within {GIVE_UP_S:g} s")
                return None
            await asyncio.sleep(min(0.1 * 2**attempt, 2.0))
        if status >= 300:
            self.ledger.errors.append(f"{path} as {user}: {status} {str(answer)[:300]}")
            return None
        if attempt > 1:
            self.ledger.retried += 1
        if self.rng.random() < self.replay_share:
            await self._replay(api, user, path, body, key, status, answer)
        return answer

    async def _replay(
        self, api: int, user: str, path: str, body: Any, key: str, status: int, first: Any
    ) -> None:
        """The same request and key again, at the other API process: the original answer, nothing more."""
        other = (api + 1) % len(self.apis)
        for _ in range(20):
            try:
                again = await self._attempt(other, user, path, body, key)
            except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError):
                await asyncio.sleep(0.5)
                continue
            if again[0] >= 500:
                await asyncio.sleep(0.5)
                continue
            self.ledger.replays += 1
            if again != (status, first):
                self.ledger.replay_mismatches.append(f"{path} key {key}: {status} then {again[0]}")
            return

    def _ack(self, kind: str, record: str, user: str, detail: str, state: str | None) -> None:
        self.ledger.acks.append(Ack(kind, record, user, detail, ""))
        if state is not None:
            self.ledger.last_state[record] = state

    # --- what the clients do ---------------------------------------------------------------------------

    async def start(self, client: int, user: str, definition: str, fields: dict[str, Any]) -> str | None:
        body = {"definition": definition, "title": f"Chaos {definition}", "fields": fields}
        snap = await self.send(client, user, "/api/v1/processes", body)
        if snap is None:
            return None
        self.ledger.definitions[snap["id"]] = definition
        self._ack("start", snap["id"], user, definition, snap["state"])
        return str(snap["id"])

    async def fire(self, client: int, user: str, record: str, trigger: str, **fields: Any) -> Any | None:
        body = {"trigger": trigger, "fields": fields}
        snap = await self.send(client, user, f"/api/v1/processes/{record}/transitions", body)
        if snap is not None:
            self._ack("transition", record, user, trigger, snap["state"])
        return snap

    async def comment(self, client: int, user: str, record: str) -> bool:
        text = f"chaos comment {uuid.uuid4().hex}"
        out = await self.send(client, user, f"/api/v1/processes/{record}/comments", {"body": text})
        if out is not None:
            self._ack("comment", record, user, text, None)
        return out is not None

    async def incident(self, client: int) -> None:
        fields = {"impact": "3", "urgency": "3", "category": "software"}
        rid = await self.start(client, "requester", "incident", fields)
        if rid is None or not await self.fire(client, "agent", rid, "accept", assignee="agent"):
            return
        if not await self.comment(client, "agent", rid):
            return
        await self.fire(
            client, "agent", rid, "resolve", resolution_code="solved_permanently", resolution_notes="chaos"
        )

    async def change(self, client: int) -> None:
        rid = await self.start(client, "requester", "change", {"change_type": "normal"})
        if rid is None:
            return
        if not await self.fire(client, "change_manager", rid, "assess", assignee="change_manager"):
            return
        snap = await self.fire(client, "change_manager", rid, "submit", **self._plan())
        pending = [a for a in (snap or {}).get("approvals", []) if a["state"] == "pending"]
        if not pending:
            return
        for user in ("cab1", "cab2"):
            path = f"/api/v1/approvals/{pending[0]['id']}/decision"
            out = await self.send(client, user, path, {"decision": "approve"})
            if out is None:
                return
            self._ack("approval", rid, user, user, out["record"]["state"])

    def _plan(self) -> dict[str, Any]:
        """A change plan in an hour of its own: changes planned in the same window by the same
        implementer are each other's conflicts, and the schedule check of a submit reads them all
        (schedule/record_check.py), so one shared window made every submit slower than the last."""
        self._changes += 1
        plan = change_plan()
        start = datetime.fromisoformat(str(plan["planned_start"])) + timedelta(hours=2 * self._changes)
        plan["planned_start"] = start.isoformat()
        plan["planned_end"] = (start + timedelta(hours=1)).isoformat()
        return plan

    async def sla_record(self, client: int) -> None:
        await self.start(client, "agent", "chaossla", {"impact": "a", "urgency": "a"})

    async def client(self, index: int) -> None:
        scenarios = (self.incident, self.change, self.sla_record)
        turn = index
        while not self.stop.is_set():
            await scenarios[turn % len(scenarios)](index)
            turn += 1

    async def run(self, clients: int) -> None:
        await asyncio.gather(*(self.client(i) for i in range(clients)))

    # --- probes: when has a fault been recovered from ----------------------------------------------------

    async def probe_round(self, records: list[str], timeout: float = 5.0) -> bool:
        """One comment on each probe record through each API process, one attempt each: all answered?"""

        async def one(api: int, record: str) -> bool:
            text = f"probe {uuid.uuid4().hex}"
            try:
                status, _ = await asyncio.wait_for(
                    self._attempt(
                        api, "agent", f"/api/v1/processes/{record}/comments", {"body": text}, uuid.uuid4().hex
                    ),
                    timeout,
                )
            except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError):
                return False
            if status == 201:
                self._ack("comment", record, "agent", text, None)
            return status == 201

        results = await asyncio.gather(*(one(a, r) for a in range(len(self.apis)) for r in records))
        return all(results)

    async def recovered_after(self, fault_at: float, records: list[str], limit: float = 300.0) -> float:
        """Seconds from `fault_at` (monotonic) until a probe round succeeds on every API process."""
        while time.monotonic() - fault_at < limit:
            if await self.probe_round(records):
                return time.monotonic() - fault_at
            await asyncio.sleep(0.25)
        self.ledger.errors.append(f"not recovered within {limit:g} s")
        return limit
