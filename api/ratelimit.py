"""Failed authentication is rate limited, per token id and per client address.

Without it, a caller could try 1,400 token secrets a second. Each failure counts against the token id
it named (if it named one) and against the client's address; a key with `limit` failures within
`window` seconds is refused with 429 and `Retry-After` until its oldest counted failure leaves the
window, even with the right secret (a correct guess inside a burst of wrong ones must not be told
apart). Success does not reset the counters: that would tell an attacker when a guess was right.

The counters live in the API process: behind a load balancer each replica limits on its own, so the
effective limit is `limit` × replicas, still far below what brute force of a 256-bit secret needs.
Memory is bounded: the least recently failing keys are forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # auth runs on the event loop and in threads

    def retry_after(self, *keys: str | None) -> int | None:
        """Whole seconds until every key may try again, or None if none is blocked."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in filter(None, keys):
                times = self._failures.get(key)
                if times is None:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.limit:
                    wait = max(wait, times[0] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, *keys: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in filter(None, keys):
                times = self._failures.pop(key, None) or deque()
                times.append(now)
                while len(times) > self.limit:
                    times.popleft()
                self._failures[key] = times  # most recent last
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
