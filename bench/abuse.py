"""Abuse benchmark (issue 15): hostile and oversized input while another client polls /healthz.

Against `itilflow dev` in a temporary folder, it sends each attack below (as an attacker with an
ordinary account, or none, would) while a second client asks `/healthz` every 50 ms, and samples the
API process's resident memory. An attack is *refused* when it gets the 4xx it should, quickly (the validator
answers 200 with the problems listed, which is its refusal); any 5xx is counted. Cases:

- alias bomb (10 levels, 650 bytes) to `POST /api/v1/definitions/validate`, and as a draft;
- 1,000 nested `[` to the validator; a 1 MB definition; deeply nested JSON in a record's fields;
- a 64 MiB body streamed without a token, and a 400 MB `Content-Length` claim;
- a NUL in a body; a crafted list cursor with a naive date-time;
- a foreign `Host` (DNS rebinding of the dev sign-in);
- 60 wrong tokens in a row (the rate limit's 429).

Run from the project root: `.venv/bin/python -m bench.abuse [--quick]`. The last line is one JSON
object: `cases`, `refused`, `status_5xx`, `max_rss_mb`, `healthz_p99_ms_under_abuse`. Goals: no 5xx,
API RSS under 500 MB, /healthz p99 under 200 ms throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import Target, dev_subprocess, percentile


def _alias_bomb(levels: int = 10) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def _big_definition(size: int) -> str:
    states = "\n".join(
        f"  - {{name: s{i}, category: open, label: {{zh: 状态{i}, en: State {i}}}}}" for i in range(size)
    )
    return f"key: huge\ntitle: {{zh: 大, en: Huge}}\nnumber_prefix: HUG\nstates:\n{states}\n"


@dataclass
class Outcome:
    name: str
    status: int
    ms: float
    expected: tuple[int, ...]

    @property
    def refused(self) -> bool:
        return self.status in self.expected


@dataclass
class Run:
    target: Target
    http: aiohttp.ClientSession
    outcomes: list[Outcome] = field(default_factory=list)
    healthz_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def auth(self, user: str = "requester") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.target.tokens[user]}"}

    async def case(self, name: str, expected: tuple[int, ...], send: Callable[[], Awaitable[int]]) -> None:
        t0 = time.perf_counter()
        try:
            status = await send()
        except aiohttp.ClientError:
            status = 499  # the server closed the connection on a refused body: not a 5xx
            if 413 in expected:
                status = 413
        ms = (time.perf_counter() - t0) * 1000
        self.outcomes.append(Outcome(name, status, ms, expected))
        print(f"  {name}: {status} in {ms:.0f} ms", flush=True)

    async def post(self, path: str, data: Any, headers: dict[str, str]) -> int:
        async with self.http.post(path, data=data, headers=headers) as r:
            await r.read()
            return r.status

    async def get(self, path: str, headers: dict[str, str]) -> int:
        async with self.http.get(path, headers=headers) as r:
            await r.read()
            return r.status


async def _stream(total: int) -> AsyncIterator[bytes]:
    chunk = b"x" * 65536
    for _ in range(total // len(chunk)):
        yield chunk


async def attacks(run: Run, quick: bool) -> None:
    yaml = {"Content-Type": "application/yaml"}
    validate = "/api/v1/definitions/validate"
    owner = run.auth("owner")
    await run.case(
        "alias bomb to validate",
        (200, 422),
        lambda: run.post(validate, _alias_bomb(), {**run.auth(), **yaml}),
    )
    await run.case(
        "alias bomb as a draft",
        (422,),
        lambda: run.post("/api/v1/definitions", _alias_bomb(), {**owner, **yaml}),
    )
    await run.case(
        "1,000 nested brackets",
        (200, 422),
        lambda: run.post(validate, "[" * 1000 + "]" * 1000, {**run.auth(), **yaml}),
    )
    await run.case(
        "1 MB definition",
        (200, 413, 422),
        lambda: run.post(validate, _big_definition(12000), {**run.auth(), **yaml}),
    )
    nested = (
        '{"definition": "incident", "title": "x", "fields": {"impact": ' + "[" * 100000 + "]" * 100000 + "}}"
    )
    await run.case(
        "deeply nested JSON",
        (400, 422),
        lambda: run.post("/api/v1/processes", nested, {**run.auth(), "Content-Type": "application/json"}),
    )
    size = (16 if quick else 64) * 1024 * 1024
    await run.case(
        f"{size >> 20} MiB streamed without a token",
        (413,),
        lambda: run.post("/api/v1/processes", _stream(size), {"Content-Type": "application/json"}),
    )

    async def claim() -> int:
        headers = {"Content-Type": "application/json", "Content-Length": str(400 * 1024 * 1024)}
        async with run.http.post("/api/v1/processes", data=b"{}", headers=headers, skip_auto_headers=()) as r:
            return r.status

    await run.case("400 MB Content-Length claim", (413,), claim)
    await run.case(
        "NUL in a body",
        (422,),
        lambda: run.post(
            "/api/v1/processes",
            json.dumps({"definition": "incident", "title": "a\u0000b", "fields": {}}),
            {**run.auth(), "Content-Type": "application/json"},
        ),
    )
    cursor = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", "x"]).encode()).decode()
    await run.case(
        "naive date-time cursor", (422,), lambda: run.get(f"/api/v1/processes?cursor={cursor}", run.auth())
    )
    await run.case("foreign Host", (400,), lambda: run.get("/ui/sign-in", {"Host": "evil.example"}))
    token_id = run.target.tokens["agent"].split("_")[1]
    statuses = []
    for _ in range(60):
        statuses.append(await run.get("/api/v1/me", {"Authorization": f"Bearer itf_{token_id}_wrong"}))
    await run.case("60 wrong tokens: the last answer", (429,), lambda: asyncio.sleep(0, statuses[-1]))


async def poll_healthz(run: Run, stop: asyncio.Event) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        async with run.http.get("/healthz") as r:
            await r.read()
        run.healthz_ms.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.05)


async def sample_rss(run: Run, pid: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            for line in open(f"/proc/{pid}/status", encoding="ascii"):
                if line.startswith("VmRSS:"):
                    run.rss_mb.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
        await asyncio.sleep(0.1)


async def main_async(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base_url=target.base, timeout=timeout) as http:
        run = Run(target, http)
        stop = asyncio.Event()
        background = [
            asyncio.create_task(poll_healthz(run, stop)),
            asyncio.create_task(sample_rss(run, target.pids["api"], stop)),
        ]
        await asyncio.sleep(1)
        await attacks(run, args.quick)
        stop.set()
        await asyncio.gather(*background)
    return {
        "cases": len(run.outcomes),
        "refused": sum(o.refused for o in run.outcomes),
        "status_5xx": sum(o.status >= 500 and o.status != 499 for o in run.outcomes),
        "max_rss_mb": round(max(run.rss_mb, default=0.0), 1),
        "healthz_p99_ms_under_abuse": round(percentile(run.healthz_ms, 99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 16 MiB stream instead of 64 MiB")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    with dev_subprocess(args.log_level) as target:
        figures = asyncio.run(main_async(args, target))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
