"""`itilflow worker`: run a Temporal worker for every process (scale out by running several)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from core import aio, jsonlog
from core.settings import Settings, get_settings
from worker.run import run_worker


def _worker(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.metrics_port is not None:
        settings = settings.model_copy(update={"worker_metrics_port": args.metrics_port})
    jsonlog.install(logging.INFO, json_lines=settings.log_format == "json")
    aio.run(_until_signalled(settings))
    return 0


async def _until_signalled(settings: Settings) -> None:
    """Run until SIGTERM (what a container runtime or systemd sends) or Ctrl-C, then stop gracefully:
    polling ends, running activities finish, batched spans are sent."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_worker(settings, stop=stop)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("worker", help="run a worker (TEMPORAL_ADDRESS, DATABASE_URL)")
    p.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus /metrics on this port (default: $ITILFLOW_WORKER_METRICS_PORT, else none)",
    )
    p.set_defaults(func=_worker)
