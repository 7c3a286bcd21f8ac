"""Retrying a Temporal call that failed without an answer, when retrying cannot act twice.

A Temporal frontend closes each client connection after a few minutes (`keepAliveMaxConnectionAge`,
five by default) and a restarting or overloaded server refuses calls: a call caught by that ends
`CANCELLED` ("operation was canceled") or `UNAVAILABLE` although nothing is wrong with the request.
The SDK does not retry the calls an action makes (an Update, an update-with-start), because in
general it cannot know that a second attempt is harmless. Ours are: an Update carries a fixed id,
which Temporal deduplicates, and a start uses the record's id with "use the existing workflow". So
the API retries them a few times, briefly, before it answers 503 and leaves the retry to the caller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

T = TypeVar("T")

# Temporal answers that mean "not now", not "no": the request may be sent again as it is.
TRANSIENT = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)
DELAYS = (0.1, 0.4, 1.0)  # seconds before the 2nd, 3rd and 4th attempt
BUDGET = 10.0  # no new attempt starts this many seconds after the first one


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` says Temporal did not answer, rather than that it refused."""
    if isinstance(exc, RPCTimeoutOrCancelledError):
        # The SDK also raises this when *our* task was cancelled (the caller went away): that is
        # not Temporal's failure, and must end the request, not start another attempt.
        return not isinstance(exc.__cause__, asyncio.CancelledError)
    return isinstance(exc, RPCError) and exc.status in TRANSIENT


async def retry_transient(call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, again after a short pause while it fails transiently; its last error otherwise.

    Only for calls that are idempotent as sent (a fixed Update id, a start that reuses the
    workflow): a transient failure may come after Temporal acted.
    """
    started = time.monotonic()
    for delay in DELAYS:
        try:
            return await call()
        except (RPCError, RPCTimeoutOrCancelledError) as exc:
            if not is_transient(exc) or time.monotonic() - started + delay > BUDGET:
                raise
        await asyncio.sleep(delay)
    return await call()
