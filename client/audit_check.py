"""Compare a record's read model with its workflow's own history, action by action.

Used by `itilflow audit verify`, the concurrency tests and `bench/concurrency.py`. Temporal's
history is the truth: every Update it completed successfully is an acknowledged action, its input
is in the matching `WorkflowExecutionUpdateAccepted` event and its result (the record's snapshot
right after it) in the `WorkflowExecutionUpdateCompleted` event. The audit trail must hold each such
action exactly once, at or below the sequence number its result carries, by its actor and with its
content; it must hold nothing else from a person, and the record row and approvals must equal the
workflow's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from core.tables import ApprovalRow, AuditRow, RecordRow
from workflows.contracts import RecordSnapshot, SnapshotQuery

# The audit action that each kind of Update writes for its caller.
ACTION_OF = {
    "add_comment": "comment",
    "update_fields": "fields_changed",
    "decide_approval": "approval_decision",
    "fire_transition": "transition",
}


@dataclass
class Acknowledged:
    """One Update that the workflow's history completed successfully."""

    update_id: str
    name: str
    input: dict[str, Any]
    result: RecordSnapshot


@dataclass
class Comparison:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.mismatches)

    def describe(self) -> str:
        return f"lost={self.lost} duplicated={self.duplicated} mismatches={self.mismatches}"


async def acknowledged_updates(client: Client, record_id: str) -> list[Acknowledged]:
    """Every successfully completed Update in the record's history (all runs), in history order."""
    converter = client.data_converter
    accepted: dict[str, tuple[str, dict[str, Any]]] = {}
    out: list[Acknowledged] = []
    run_id: str | None = None
    while True:
        handle = client.get_workflow_handle(record_id, run_id=run_id)
        history = await handle.fetch_history()
        next_run: str | None = None
        for event in history.events:
            if event.HasField("workflow_execution_update_accepted_event_attributes"):
                attrs = event.workflow_execution_update_accepted_event_attributes
                request = attrs.accepted_request
                payloads = list(request.input.args.payloads)
                decoded = await converter.decode(payloads, [dict])
                accepted[request.meta.update_id] = (request.input.name, decoded[0] if decoded else {})
            elif event.HasField("workflow_execution_update_completed_event_attributes"):
                completed = event.workflow_execution_update_completed_event_attributes
                update_id = completed.meta.update_id
                if not completed.outcome.HasField("success") or update_id not in accepted:
                    continue
                name, inp = accepted[update_id]
                if name not in ACTION_OF:
                    continue  # `ready`: no action
                payloads = list(completed.outcome.success.payloads)
                [result] = await converter.decode(payloads, [RecordSnapshot])
                out.append(Acknowledged(update_id, name, inp, result))
            elif event.HasField("workflow_execution_continued_as_new_event_attributes"):
                next_run = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        if next_run is None:
            return out
        run_id = next_run


def _matches(ack: Acknowledged, row: AuditRow) -> bool:
    actor = ack.input.get("actor", {}).get("username")
    if row.actor != actor or row.action != ACTION_OF[ack.name]:
        return False
    if ack.name == "add_comment":
        return row.comment == ack.input.get("body")
    if ack.name == "decide_approval":
        return bool(
            row.details.get("approval") == ack.input.get("approval_id")
            and row.details.get("decision") == ack.input.get("decision")
        )
    if ack.name == "fire_transition":
        return bool(row.details.get("trigger") == ack.input.get("trigger"))
    return True


def _event_of(ack: Acknowledged, rows: dict[int, AuditRow], after: int) -> list[AuditRow]:
    """The caller's own audit row among those the Update wrote: (after, result seq]."""
    return [
        rows[seq] for seq in range(after + 1, ack.result.seq + 1) if seq in rows and _matches(ack, rows[seq])
    ]


async def compare(client: Client, engine: Engine, record_id: str) -> Comparison:
    """The record's audit trail and read model against its workflow's history and state."""
    acks = await acknowledged_updates(client, record_id)
    with Session(engine) as session:
        audit = list(
            session.exec(select(AuditRow).where(AuditRow.record_id == record_id).order_by(col(AuditRow.seq)))
        )
        record = session.get(RecordRow, record_id)
        approvals = list(session.exec(select(ApprovalRow).where(ApprovalRow.record_id == record_id)))
    result = Comparison(acknowledged=len(acks))
    rows = {a.seq: a for a in audit}
    if len(rows) != len(audit):
        result.duplicated.append("two audit rows share a sequence number")
    claimed: dict[int, str] = {}
    after = 0
    for ack in acks:
        if ack.result.seq < after:
            result.mismatches.append(f"{ack.update_id} completed after a later step (seq {ack.result.seq})")
        if ack.result.seq == after and ack.name == "update_fields":
            continue  # nothing changed: no audit row
        found = _event_of(ack, rows, after)
        after = max(after, ack.result.seq)
        if len(found) != 1:
            result.lost.append(f"{ack.name} {ack.update_id} (seq {ack.result.seq}, found {len(found)})")
            continue
        claimed[found[0].seq] = ack.update_id
    # Every human row must be claimed by exactly one acknowledged Update: a row nobody acknowledged is
    # a duplicate of another action's content or a change that Temporal discarded.
    human = [a for a in audit if not a.actor.startswith("system:") and a.action in ACTION_OF.values()]
    for row in human:
        if row.seq not in claimed:
            result.duplicated.append(f"seq {row.seq}: {row.action} by {row.actor} ({row.comment!r})")
    expected_seqs = list(range(1, len(audit) + 1))
    if [a.seq for a in audit] != expected_seqs:
        result.mismatches.append(f"audit seqs are not 1..{len(audit)}")
    # The record row and approvals against the workflow's own state.
    handle = client.get_workflow_handle(record_id)
    state = await handle.query("snapshot", SnapshotQuery(), result_type=RecordSnapshot)
    if record is None:
        result.mismatches.append("no record row")
        return result
    if record.seq != state.seq or (audit and audit[-1].seq != state.seq):
        result.mismatches.append(
            f"seq: row {record.seq}, audit {audit[-1].seq if audit else 0}, workflow {state.seq}"
        )
    if record.state != state.state:
        result.mismatches.append(f"state: row {record.state}, workflow {state.state}")
    if record.fields != state.fields:
        result.mismatches.append(f"fields: row {record.fields}, workflow {state.fields}")
    stored = {a.id: a.state for a in approvals}
    wanted = {t.id: t.state for t in state.approvals}
    if stored != wanted:
        result.mismatches.append(f"approvals: rows {stored}, workflow {wanted}")
    return result
