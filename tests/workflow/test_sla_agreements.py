"""Issue 21's done-when on a real Temporal server: a record on a service covered by a 7×24 agreement runs
its resolution clock on that agreement's target around the clock; one on a business-hours agreement runs
on that agreement's service hours. The record names the agreement in its audit trail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client

from client.launch import launch_record
from core.db import session_scope
from definitions.calendar import BusinessCalendar, add_business_time
from definitions.loader import load_text, pin
from sla.agreements import save_agreement
from sla.tables import RecordAgreementRow
from tests.conftest import FIXTURES
from tests.engine_helpers import ALICE, BOB, audit
from tests.unit.sla.test_agreements import spec
from workflows.contracts import UpdateFieldsInput
from workflows.process import ProcessWorkflow

SOURCE = (
    (FIXTURES / "mini.yaml")
    .read_text(encoding="utf-8")
    .replace(
        "  - {name: risk, type: int, min: 1, max: 5}\n",
        "  - {name: risk, type: int, min: 1, max: 5}\n  - {name: service, type: text}\n",
    )
)


def _with_target(data: dict[str, Any], minutes: int) -> dict[str, Any]:
    data["targets"]["3"] = {"response_minutes": 15, "resolution_minutes": minutes}
    return data


async def test_a_record_runs_on_the_agreement_of_its_service(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    loaded = load_text(SOURCE)
    assert loaded.ok and loaded.definition is not None, loaded.issues
    pinned = pin(loaded.definition, 1)
    round_service, hours_service = f"mail-{uuid.uuid4().hex[:8]}", f"erp-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    with session_scope(db_engine) as s:
        round_key = save_agreement(
            s,
            f"a-{uuid.uuid4().hex[:8]}",
            _with_target(spec(round_service, always=True), 600),
            actor="x",
            now=now,
        ).key
        save_agreement(
            s, f"b-{uuid.uuid4().hex[:8]}", _with_target(spec(hours_service), 600), actor="x", now=now
        )
    snaps = {}
    for service in (round_service, hours_service):
        snaps[service] = await launch_record(
            temporal_client,
            db_engine,
            task_queue=task_queue,
            pinned=pinned,
            record_id=uuid.uuid4().hex[:20],
            title="Mail down",
            fields={"impact": "2", "urgency": "2", "service": service},
            actor=ALICE,
        )
    round_snap, hours_snap = snaps[round_service], snaps[hours_service]
    assert round_snap.fields["priority"] == "3"
    (round_clock,) = [c for c in round_snap.slas if c.name == "resolution"]
    (hours_clock,) = [c for c in hours_snap.slas if c.name == "resolution"]
    created = round_snap.created_at
    assert round_clock.due_at == created + timedelta(hours=10)  # 7×24: ten hours on the wall clock
    business = BusinessCalendar(timezone="UTC")  # the agreement's Mon–Fri 09:00–18:00
    assert hours_clock.due_at == add_business_time(business, hours_snap.created_at, timedelta(hours=10))
    assert hours_clock.due_at != hours_snap.created_at + timedelta(hours=10)
    events = [a for a in audit(db_engine, round_snap.id) if a.action == "sla_agreement"]
    assert [(e.details["agreement"], e.details["version"]) for e in events] == [(round_key, 1)]
    # Re-prioritised, the record takes the new priority's target from the agreement it started with
    # (priority 1: 4 h in spec()), not the definition's (mini.yaml: 4 s).
    handle = temporal_client.get_workflow_handle_for(ProcessWorkflow.run, round_snap.id)
    moved = await handle.execute_update(
        ProcessWorkflow.update_fields, UpdateFieldsInput(actor=BOB, fields={"impact": "1", "urgency": "1"})
    )
    assert moved.fields["priority"] == "1"
    (clock,) = [c for c in moved.slas if c.name == "resolution"]
    assert clock.due_at == created + timedelta(hours=4)
    with session_scope(db_engine) as s:  # the service report counts the record under its agreement
        noted = s.get(RecordAgreementRow, round_snap.id)
        assert noted is not None and (noted.agreement_key, noted.agreement_version) == (round_key, 1)
