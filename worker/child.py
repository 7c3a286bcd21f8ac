"""The worker of `itilflow dev` in a process of its own: the child's end.

`itilflow dev` (devenv/worker_process.py) starts `python -m worker.child` with its settings in the
environment. This runs exactly what `itilflow worker` runs (worker/run.py `run_worker`) and writes
"ready" to the pipe it was given once Temporal lists it among the task queue's pollers. It ignores
SIGINT (the parent stops the API first, then the worker) and stops gracefully on SIGTERM: it stops
polling, lets running activities finish within its graceful shutdown timeout, and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import timedelta

from core import aio, jsonlog

MODULE = "worker.child"
READY = b"ready\n"


async def _serve(ready_fd: int | None, graceful_shutdown: float) -> None:
    from core.settings import Settings
    from worker.run import run_worker

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    def ready() -> None:
        if ready_fd is not None:
            with open(ready_fd, "wb", buffering=0) as pipe:
                pipe.write(READY)

    await run_worker(
        Settings(),
        stop=stop,
        ready=ready,
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown),
    )


def main(argv: list[str] | None = None) -> int:
    # `WorkerProcess` (devenv/worker_process.py) starts this with SIGINT ignored; this covers a start by hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ready-fd", type=int, help="file descriptor to write 'ready' to once polling")
    parser.add_argument("--graceful-shutdown", type=float, default=5.0, help="seconds for activities")
    args = parser.parse_args(argv)
    from core.settings import Settings

    jsonlog.install(logging.WARNING, json_lines=Settings().log_format == "json")
    aio.run(_serve(args.ready_fd, args.graceful_shutdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
