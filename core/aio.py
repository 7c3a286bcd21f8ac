"""The event loop of itilflow's long-running processes: uvloop.

The worker and the API spend much of their CPU in the event loop itself: every workflow activation
and local activity hops between threads and the loop (`call_soon_threadsafe`), and every request
passes through the loop's transports. uvloop does that work in C. uvicorn already picked it for
`itilflow api`; `itilflow dev` and the worker processes ran on the standard loop before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
