"""The shipped incident on a service level agreement with operational-level targets, and flagged as a
service interruption, end to end through the API on a real worker and Temporal (SQLite, and PostgreSQL
with -m db): the record names the agreement and the target each clock runs on; the support group's clock
restarts when the incident is escalated to another group (audited); the first response is kept; the
resolution records the outage by itself, once, and availability counts it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client
from temporalio.worker import Replayer

from core.converter import data_converter
from core.db import session_scope
from sla.tables import OutageRow
from tests.library.conftest import LibraryApi, actions, ensure_users
from tests.unit.sla.test_agreements import spec
from tests.workflow.test_workflow_durability import _patches
from worker.registry import WORKFLOWS, sandbox_runner

CMDB = "/api/v1/cmdb"
OLAS = {
    "service_desk": {"response_minutes": 10, "resolution_minutes": 60},
    "l2_support": {"response_minutes": 20, "resolution_minutes": 120},
}


@pytest.fixture(scope="module", autouse=True)
def _configuration_manager(db_engine: Engine) -> None:
    ensure_users(db_engine, [("cfg", ["configuration_manager"], [])])


async def _service(api: LibraryApi) -> tuple[int, str]:
    name = f"Mail {uuid.uuid4().hex[:8]}"
    body = {"class": "business_service", "name": name, "attributes": {"owner": "lee", "criticality": "high"}}
    r = await api.post("cfg", f"{CMDB}/cis", body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"]), name


def _clock(rec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(dict(s) for s in rec["slas"] if s["name"] == name)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_incident_runs_on_its_agreement_and_group_targets_and_records_its_outage(
    api: LibraryApi, db_engine: Engine, temporal_client: Client
) -> None:
    await api.ensure("incident")
    ci, service = await _service(api)
    key = f"mail-{uuid.uuid4().hex[:8]}"
    body = {"spec": spec(service, always=True, olas=OLAS)}
    r = await api.http.put(f"/api/v1/sla/agreements/{key}", json=body, headers=api.headers("owner"))
    assert r.status_code == 201, r.text

    rec = await api.started(
        "alice", "incident", "Mail is down", impact="1", urgency="1", service=ci, service_interruption=True
    )
    inc = rec["id"]
    # The interruption began with the record; every clock names the agreement and the target it runs on.
    assert _at(rec["fields"]["interruption_start"]) == _at(rec["created_at"])
    resolution = _clock(rec, "resolution")
    assert (resolution["agreement"], resolution["agreement_version"]) == (key, 1)
    assert (resolution["target_field"], resolution["target_key"], resolution["target"]) == (
        "priority",
        "1",
        "PT4H",
    )
    ola = _clock(rec, "ola_resolution")
    assert (ola["ola"], ola["target_key"], ola["target"], ola["agreement"]) == (
        True,
        "service_desk",
        "PT1H",
        key,
    )
    assert _clock(rec, "ola_response")["target"] == "PT10M"
    history = await api.history("sam", inc)
    (chosen,) = [e for e in history if e["action"] == "sla_agreement"]
    assert chosen["details"] == {"agreement": key, "version": 1, "olas": ["l2_support", "service_desk"]}

    rec = await api.fired("sam", inc, "accept", assignee="sam")
    assert rec["responded_at"] is not None and _at(rec["responded_at"]) >= _at(rec["created_at"])
    assert _clock(rec, "ola_response")["state"] == "met"
    # Escalated to the second line: the first line's group clock ends, l2_support's starts from zero.
    rec = await api.fired("sam", inc, "escalate", comment="Needs the mail team")
    assert rec["assignment_group"] == "l2_support"
    ola = _clock(rec, "ola_resolution")
    assert (ola["target_key"], ola["target"], ola["state"]) == ("l2_support", "PT2H", "running")
    assert _clock(rec, "resolution")["target"] == "PT4H"  # the customer's clock is not touched
    (restart,) = [e for e in await api.history("sam", inc) if e["action"] == "sla_restarted"]
    assert (
        restart["details"]["from_group"] == "service_desk" and restart["details"]["to_group"] == "l2_support"
    )

    done = {"category": "software", "resolution_code": "solved_permanently", "resolution_notes": "Relay up"}
    rec = await api.fired("lee", inc, "resolve", **done)
    assert "outage_recorded" in actions(await api.history("sam", inc))
    with session_scope(db_engine) as s:
        (outage,) = s.exec(select(OutageRow).where(OutageRow.incident == inc)).all()
        assert outage.service == service and outage.planned is False
        assert outage.start.timestamp() == _at(rec["created_at"]).timestamp()
        first_end = outage.end.timestamp()
    # Reopened and resolved again: the same outage lasts longer; it is not counted twice.
    await api.fired("alice", inc, "reopen", comment="Still down")
    await api.fired("lee", inc, "resolve", **done)
    with session_scope(db_engine) as s:
        (outage,) = s.exec(select(OutageRow).where(OutageRow.incident == inc)).all()
        assert outage.end.timestamp() > first_end
    start = (_at(rec["created_at"]) - timedelta(hours=1)).isoformat()
    end = (_at(rec["created_at"]) + timedelta(hours=1)).isoformat()
    r = await api.get(
        "owner", f"/api/v1/sla/agreements/{key}/availability", params={"start": start, "end": end}
    )
    assert r.status_code == 200, r.text
    assert r.json()["interruptions"] == 1 and r.json()["availability_percent"] < 100
    # The run recorded its OLA clocks behind their patch, and its history replays (the outage activity
    # and the group clock restarts included).
    history = await temporal_client.get_workflow_handle(inc).fetch_history()
    assert "sla-olas" in _patches(history)
    replayer = Replayer(
        workflows=list(WORKFLOWS), workflow_runner=sandbox_runner(), data_converter=data_converter
    )
    await replayer.replay_workflow(history)


async def test_an_incident_flagged_later_begins_its_interruption_then(api: LibraryApi) -> None:
    await api.ensure("incident")
    ci, _ = await _service(api)
    rec = await api.started("alice", "incident", "Slow mail", impact="2", urgency="2", service=ci)
    assert "interruption_start" not in rec["fields"]
    rec = await api.set_fields("sam", rec["id"], service_interruption=True)
    assert _at(rec["fields"]["interruption_start"]) > _at(rec["created_at"])
