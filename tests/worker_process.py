"""Run a real worker in its own process (the crash test kills it with SIGKILL).

Usage: python -m tests.worker_process TEMPORAL_ADDRESS TASK_QUEUE DATABASE_URL
"""

from __future__ import annotations

import asyncio
import sys

from client.connection import connect
from core.db import make_engine
from worker.registry import build_worker


async def main(address: str, task_queue: str, database_url: str) -> None:
    client = await connect(address)
    worker = build_worker(client, make_engine(database_url), task_queue)
    async with worker:
        print("worker ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
