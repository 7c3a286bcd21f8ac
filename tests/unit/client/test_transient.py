"""The service's own retry of Temporal calls that got no answer (`client.transient`).

Async tests on the suite's one event loop: `asyncio.run` would close it for every test after.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from client import transient
from client.transient import is_transient, retry_transient


def _rpc(status: RPCStatusCode) -> RPCError:
    return RPCError("operation was canceled", status, b"")


class Flaky:
    """A call that fails with the given errors first, then answers."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


@pytest.fixture(autouse=True)
def _short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transient, "DELAYS", (0.0, 0.0, 0.0))


async def test_a_connection_closed_under_a_call_is_tried_again() -> None:
    call = Flaky(_rpc(RPCStatusCode.CANCELLED), _rpc(RPCStatusCode.UNAVAILABLE))
    assert await retry_transient(call) == "answer"
    assert call.calls == 3


async def test_a_refusal_is_not_tried_again() -> None:
    call = Flaky(_rpc(RPCStatusCode.INVALID_ARGUMENT))
    with pytest.raises(RPCError):
        await retry_transient(call)
    assert call.calls == 1


async def test_it_gives_up_after_four_attempts_with_the_last_error() -> None:
    call = Flaky(*(_rpc(RPCStatusCode.UNAVAILABLE) for _ in range(5)))
    with pytest.raises(RPCError) as raised:
        await retry_transient(call)
    assert raised.value.status == RPCStatusCode.UNAVAILABLE
    assert call.calls == 4


async def test_no_attempt_starts_after_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transient, "BUDGET", 0.0)
    monkeypatch.setattr(transient, "DELAYS", (0.01, 0.01, 0.01))
    call = Flaky(_rpc(RPCStatusCode.UNAVAILABLE), _rpc(RPCStatusCode.UNAVAILABLE))
    with pytest.raises(RPCError):
        await retry_transient(call)
    assert call.calls == 1


async def test_an_update_that_timed_out_is_transient_but_our_own_cancellation_is_not() -> None:
    timed_out = WorkflowUpdateRPCTimeoutOrCancelledError()
    timed_out.__cause__ = _rpc(RPCStatusCode.DEADLINE_EXCEEDED)
    assert is_transient(timed_out)
    ours = WorkflowUpdateRPCTimeoutOrCancelledError()
    ours.__cause__ = asyncio.CancelledError()
    assert not is_transient(ours)
    call = Flaky(ours)
    with pytest.raises(RPCTimeoutOrCancelledError):
        await retry_transient(call)
    assert call.calls == 1
