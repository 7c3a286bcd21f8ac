"""Records that act on linked records (issue 20): an `act_on_linked` effect asks the workflow to fire a
transition on each record a reference field names. The `act_on_linked` activity sends each one as the
linked record's own `fire` Update (its rules decide; a refusal is an answer, not a failure), with an
Update id derived from this record and its sequence number, so a retried activity acts once. What each
linked record did is recorded on this record (`linked_action`). Only definitions with the effect get
here, so recorded histories replay unchanged; the patch marks the runs that took this path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import patches
    from workflows.calls import DB_RETRY
    from workflows.contracts import Contract
    from workflows.engine.outcome import LinkedActRequest

# How many records one chain of linked actions may pass through (A acts on B acts on C ...).
MAX_CHAIN = 4


class ActOnLinkedInput(Contract):
    origin_id: str
    origin_number: str
    seq: int
    targets: list[str]
    trigger: str
    fields: dict[str, Any] = {}
    comment: str | None = None
    chain: list[str]


class ActOnLinkedResult(Contract):
    # One per target: {record, number, outcome: moved | refused, state | kind, reason_en, reason_zh}
    results: list[dict[str, Any]]


async def act(
    origin_id: str, origin_number: str, seq: int, request: LinkedActRequest
) -> list[dict[str, Any]]:
    workflow.patched(patches.ACT_ON_LINKED)
    result: ActOnLinkedResult = await workflow.execute_activity(
        "act_on_linked",
        ActOnLinkedInput(
            origin_id=origin_id,
            origin_number=origin_number,
            seq=seq,
            targets=request.targets,
            trigger=request.trigger,
            fields=request.fields,
            comment=request.comment,
            chain=request.chain,
        ),
        result_type=ActOnLinkedResult,
        start_to_close_timeout=timedelta(seconds=90),
        retry_policy=DB_RETRY,
    )
    return result.results
