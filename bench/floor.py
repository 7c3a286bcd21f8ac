"""The floor under bench/api.py: bare Temporal updates on the dev server that `itilflow dev` runs.

A workflow whose update handler only adds a number, on its own worker process, against a Temporal dev
server started like `itilflow dev` starts it (a SQLite file, core.devserver's pragmas and dynamic
config). `--records` new workflows each take `--steps` updates from `--clients` concurrent clients,
in `--rounds` rounds. Per step it prints p50/p99: step 0 is a new workflow's first update, where a task
that waits in an unpolled task-queue partition shows up (see DEFAULT_DYNAMIC_CONFIG). No itilflow code
runs in the workflow, so what is left is the server's and the SDK's own cost on this machine.

Run from the project root: `.venv/bin/python -m bench.floor`. Last line: one JSON object with
`updates_per_s`, `update_p50_ms`, `update_p99_ms` over all rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.common import CpuMeter, ms_per_item, percentile, pool, timed
from devenv.temporal_server import DevServer

TASK_QUEUE = "floor"


@workflow.defn(name="Floor")
class Floor:
    def __init__(self) -> None:
        self.total = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.total

    @workflow.update
    async def add(self, n: int) -> int:
        self.total += n
        return self.total

    @workflow.signal
    def finish(self) -> None:
        self.done = True


async def serve(address: str) -> None:
    client = await Client.connect(address)
    async with Worker(
        client, task_queue=TASK_QUEUE, workflows=[Floor], workflow_runner=UnsandboxedWorkflowRunner()
    ):
        await asyncio.Event().wait()


async def one_round(
    client: Client, records: int, steps: int, clients: int, cpu: dict[str, float], pids: dict[str, int]
) -> tuple[list[list[float]], float]:
    handles = [
        await client.start_workflow(Floor.run, id=f"floor-{uuid.uuid4().hex}", task_queue=TASK_QUEUE)
        for _ in range(records)
    ]
    by_step: list[list[float]] = [[] for _ in range(steps)]

    async def job(i: int) -> None:
        for step in range(steps):
            await timed(by_step[step], handles[i].execute_update(Floor.add, 1))

    meter = CpuMeter(pids)
    elapsed = await pool(records, clients, job)
    for name, spent in meter.spent().items():  # the updates alone: not the starts or the finishing signals
        cpu[name] = cpu.get(name, 0.0) + spent
    for handle in handles:
        await handle.signal(Floor.finish)
    return by_step, elapsed


async def drive(address: str, args: argparse.Namespace, pids: dict[str, int]) -> dict[str, float]:
    client = await Client.connect(address)
    every: list[float] = []
    elapsed = 0.0
    cpu: dict[str, float] = {}
    for n in range(args.rounds):
        by_step, seconds = await one_round(client, args.records, args.steps, args.clients, cpu, pids)
        elapsed += seconds
        steps = ", ".join(
            f"step {i}: {percentile(v, 50):.0f}/{percentile(v, 99):.0f}" for i, v in enumerate(by_step)
        )
        print(
            f"round {n + 1}: {sum(map(len, by_step)) / seconds:.0f} updates/s; p50/p99 ms {steps}", flush=True
        )
        every += [v for values in by_step for v in values]
    print(f"CPU ms per update: {ms_per_item(cpu, len(every))}", flush=True)
    return {
        "updates_per_s": round(len(every) / elapsed, 1),
        "update_p50_ms": round(percentile(every, 50), 1),
        "update_p99_ms": round(percentile(every, 99), 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.floor", description=__doc__.split("\n\n")[0] if __doc__ else "")
    p.add_argument("--records", type=int, default=60)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--serve", metavar="ADDRESS", help=argparse.SUPPRESS)  # the worker subprocess
    args = p.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve))
        return 0
    with tempfile.TemporaryDirectory(prefix="itilflow-bench-floor-") as tmp:
        with DevServer(Path(tmp), headless=True, db_file=Path(tmp) / "temporal.db") as server:
            worker = subprocess.Popen([sys.executable, "-m", "bench.floor", "--serve", server.address])
            try:
                time.sleep(2)  # the worker's pollers
                assert server.pid is not None
                pids = {"client": os.getpid(), "server": server.pid, "worker": worker.pid}
                result = asyncio.run(drive(server.address, args, pids))
            finally:
                worker.terminate()
                worker.wait(timeout=30)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
