"""`itilflow worker`: run a Temporal worker for every process (scale out by running several)."""

from __future__ import annotations

import argparse
import contextlib
import logging

from core import aio
from core.settings import get_settings
from worker.run import run_worker


def _worker(_args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The state machine library logs every callback of every transition at INFO: megabytes an hour
    # and CPU on a busy worker (bench/chaos.py), for nothing an operator reads.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        aio.run(run_worker(get_settings()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("worker", help="run a worker (TEMPORAL_ADDRESS, DATABASE_URL)")
    p.set_defaults(func=_worker)
