"""The data converter: the same JSON payloads as temporalio.contrib.pydantic, with model adapters reused."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.contrib.pydantic import pydantic_data_converter

from core.converter import _model_adapter, data_converter
from workflows.contracts import Actor, AuditEvent, FireTransitionInput


def test_payloads_match_the_contrib_converter_and_decode_back() -> None:
    ours, theirs = data_converter.payload_converter, pydantic_data_converter.payload_converter
    values = [
        FireTransitionInput(actor=Actor(username="bob", roles=["agent"]), trigger="accept", fields={"a": 1}),
        AuditEvent(seq=3, at=datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC), actor="bob", action="accept"),
        ["a", "b"],
        None,
    ]
    payloads = ours.to_payloads(values)
    assert [p.data for p in payloads] == [p.data for p in theirs.to_payloads(values)]
    hints = [FireTransitionInput, AuditEvent, list[str], type(None)]
    assert ours.from_payloads(payloads, hints) == values


def test_one_adapter_per_model() -> None:
    payload = data_converter.payload_converter.to_payloads([Actor(username="x")])
    before = _model_adapter.cache_info()
    for _ in range(3):
        assert data_converter.payload_converter.from_payloads(payload, [Actor]) == [Actor(username="x")]
    after = _model_adapter.cache_info()
    assert after.hits - before.hits >= 2 and after.currsize - before.currsize <= 1
