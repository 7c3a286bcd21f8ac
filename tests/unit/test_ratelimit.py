"""The failed-authentication limiter on its own (the 429 through the API is in tests/api)."""

from __future__ import annotations

from api.ratelimit import FailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_blocked_after_limit_failures_until_the_window_passes() -> None:
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("token:a", "ip:1") is None
        limiter.failed("token:a", "ip:1")
        clock.now += 1
    assert limiter.retry_after("token:a") == 57
    assert limiter.retry_after("ip:1") == 57
    assert limiter.retry_after("token:b", "ip:2") is None  # others are not affected
    clock.now += 58
    assert limiter.retry_after("token:a", "ip:1") is None


def test_any_blocked_key_blocks_the_attempt() -> None:
    limiter = FailureLimiter(2, 10, clock=Clock())
    limiter.failed("ip:1")
    limiter.failed("ip:1")
    assert limiter.retry_after("token:fresh", "ip:1") == 10
    assert limiter.retry_after(None, "ip:2") is None


def test_memory_is_bounded() -> None:
    limiter = FailureLimiter(2, 10, max_keys=100, clock=Clock())
    for i in range(1000):
        limiter.failed(f"ip:{i}")
    assert len(limiter._failures) == 100
