"""The `record_outage` activity: an incident flagged as a service interruption records its outage when it
is resolved (workflows/outages.py asks; sla/interruptions.py writes). Idempotent: a retry finds the
incident's outage and writes the same end again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity

from cmdb.tables import CiRow
from core.db import session_scope
from sla.interruptions import record_interruption
from workflows.outages import RecordOutageInput, RecordOutageResult


class OutageActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="record_outage")
    def record_outage(self, inp: RecordOutageInput) -> RecordOutageResult:
        with session_scope(self.engine) as session:
            service = inp.service
            if isinstance(service, int) or (isinstance(service, str) and service.isdigit()):
                ci = session.get(CiRow, int(service))  # a `ci` field holds the CI's id: outages name it
                service = ci.name if ci is not None else str(service)
            if not service:
                return RecordOutageResult()
            row = record_interruption(
                session,
                incident=inp.record_id,
                service=str(service),
                start=datetime.fromisoformat(inp.start),
                end=datetime.fromisoformat(inp.end),
                now=datetime.now(UTC),
            )
            return RecordOutageResult(outage=None if row is None else row.id)
