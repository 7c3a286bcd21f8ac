"""A record flagged as a service interruption records its outage by itself (issue 21): a `record_outage`
effect (definitions/model.py) asks the workflow to run the `record_outage` activity, which writes the
outage of the record's service from the interruption's start to now (activities/outages.py). Only
definitions with that effect get here, so histories recorded before it replay unchanged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.calls import DB_RETRY
    from workflows.contracts import Contract
    from workflows.engine.outcome import OutageRequest


class RecordOutageInput(Contract):
    record_id: str
    service: Any = None  # the record's service field: a CI id or a service name
    start: str
    end: str


class RecordOutageResult(Contract):
    outage: int | None = None  # the outage's id; None when the record names no service


async def record(record_id: str, request: OutageRequest) -> int | None:
    result: RecordOutageResult = await workflow.execute_activity(
        "record_outage",
        RecordOutageInput(record_id=record_id, service=request.service, start=request.start, end=request.end),
        result_type=RecordOutageResult,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=DB_RETRY,
    )
    return result.outage
