"""Schedules of records on a real Temporal dev server (issue 20): a Temporal Schedule fires within
seconds and starts the record as `system:schedule`; missed runs after downtime follow the catch-up
policy (Temporal backfills the missed firings); bad input writes nothing; pause, resume, delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from core.db import session_scope
from core.tables import RecordRow
from recurring.tables import RecordScheduleRow, ScheduleRunRow
from tests.api.conftest import MINI, Api
from workflows.scheduled_run import temporal_schedule_id

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.db]


def _body(definition: str, rule: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Daily patrol",
        "definition": definition,
        "title": "Machine-room patrol",
        "fields": {"impact": "2", "urgency": "2"},
        "rule": rule,
        "calendar": None,
        "timezone": "UTC",
        **extra,
    }


async def _runs(api: Api, sid: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await api.get("owner", f"/api/v1/schedules/{sid}/runs")
        assert r.status_code == 200, r.text
        if len(r.json()) >= count or asyncio.get_running_loop().time() > deadline:
            return list(r.json())
        await asyncio.sleep(0.5)


async def test_schedule_fires_and_starts_the_record_as_the_schedule(
    api: Api, mini: str, temporal_client: Client
) -> None:
    due = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    r = await api.post(
        "owner", "/api/v1/schedules", _body(mini, {"kind": "workdays", "at": f"{due:%H:%M:%S}"})
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["next_runs"][0] == due.isoformat().replace("+00:00", "Z")
    assert made["owner"] == "owner" and made["paused"] is False
    # Durable and visible in Temporal: a Temporal Schedule of that id.
    described = await temporal_client.get_schedule_handle(made["temporal_schedule_id"]).describe()
    assert not described.schedule.state.paused

    [run] = await _runs(api, made["id"], 1)
    assert run["status"] == "started", run
    assert run["scheduled_at"].startswith(due.strftime("%Y-%m-%dT%H:%M:%S"))
    record = (await api.get("root", f"/api/v1/processes/{run['record_id']}")).json()
    assert (record["number"], record["fields"]["title"]) == (run["number"], "Machine-room patrol")
    history = (await api.get("root", f"/api/v1/processes/{run['record_id']}/history")).json()
    assert (history[0]["action"], history[0]["actor"]) == ("created", f"system:schedule:{made['id']}")

    r = await api.post("owner", f"/api/v1/schedules/{made['id']}/pause")
    assert r.status_code == 200 and r.json()["paused"] is True and r.json()["next_runs"] == []
    described = await temporal_client.get_schedule_handle(made["temporal_schedule_id"]).describe()
    assert described.schedule.state.paused
    r = await api.post("owner", f"/api/v1/schedules/{made['id']}/resume")
    assert r.status_code == 200 and r.json()["paused"] is False
    r = await api.http.delete(f"/api/v1/schedules/{made['id']}", headers=api.headers("owner"))
    assert r.status_code == 200 and r.json()["deleted"] is True
    listed = (await api.get("owner", "/api/v1/schedules")).json()
    assert made["id"] not in [s["id"] for s in listed]
    assert (await api.get("owner", f"/api/v1/schedules/{made['id']}/runs")).json() == [run]


@pytest.mark.parametrize(
    ("catch_up", "expected"), [("once", ["skipped", "skipped", "started"]), ("skip", ["skipped"] * 3)]
)
async def test_missed_runs_follow_the_catch_up_policy(
    api: Api, mini: str, temporal_client: Client, catch_up: str, expected: list[str]
) -> None:
    at = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    body = _body(mini, {"kind": "workdays", "at": f"{at:%H:%M}"}, catch_up=catch_up)
    made = (await api.post("owner", "/api/v1/schedules", body)).json()
    # Downtime: Temporal catches up the three firings it missed (a backfill is exactly that).
    handle = temporal_client.get_schedule_handle(temporal_schedule_id(made["id"]))
    await handle.backfill(
        ScheduleBackfill(
            start_at=at - timedelta(days=2, seconds=30),
            end_at=at + timedelta(seconds=30),
            overlap=ScheduleOverlapPolicy.ALLOW_ALL,
        )
    )
    runs = sorted(await _runs(api, made["id"], 3), key=lambda r: r["scheduled_at"])
    assert [r["status"] for r in runs] == expected, runs
    if catch_up == "once":
        assert [r["reason"] for r in runs] == ["superseded", "superseded", "late"]
        assert runs[-1]["record_id"] and runs[0]["record_id"] is None
        assert "down" in runs[0]["message"]
    else:
        assert {r["reason"] for r in runs} == {"late"} and all(r["record_id"] is None for r in runs)
    await api.http.delete(f"/api/v1/schedules/{made['id']}", headers=api.headers("owner"))


BAD = [
    ({"rule": {"kind": "hourly"}}, "rule.kind"),
    ({"rule": {"kind": "yearly", "month": 2, "day": 30}}, "rule.day"),
    ({"rule": {"kind": "every_days", "every": 90, "start": "2090-01-01"}}, "rule.kind"),  # never fires
    ({"rule": {"kind": "workdays", "at": "25:00"}}, "rule.at"),
    ({"rule": {"kind": "workdays", "at": "09:00:00.5"}}, "rule.at"),
    ({"rule": {"kind": "workdays", "at": "09:00+08:00"}}, "rule.at"),
    ({"calendar": "atlantis"}, "calendar"),
    ({"calendar": None, "timezone": "Mars/Olympus"}, "timezone"),
    ({"owner": "nobody"}, "owner"),
    ({"fields": {"impact": "2"}}, "fields.urgency"),
    ({"fields": {"impact": "9", "urgency": "2"}}, "fields.impact"),
    ({"definition": "no_such_process"}, "definition"),
]


@pytest.mark.parametrize(("change", "path"), BAD)
async def test_bad_input_is_refused_and_writes_nothing(
    api: Api, mini: str, db_engine: Engine, change: dict[str, Any], path: str
) -> None:
    body = {**_body(mini, {"kind": "workdays", "at": "09:00"}), **change}
    with session_scope(db_engine) as session:
        before = session.exec(select(func.count()).select_from(RecordScheduleRow)).one()
    r = await api.post("owner", "/api/v1/schedules", body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["path"] == path, problem
    assert problem["detail"]
    with session_scope(db_engine) as session:
        assert session.exec(select(func.count()).select_from(RecordScheduleRow)).one() == before


async def test_only_process_owners_schedule(api: Api, mini: str) -> None:
    r = await api.post("bob", "/api/v1/schedules", _body(mini, {"kind": "workdays", "at": "09:00"}))
    assert r.status_code == 403
    assert (await api.get("alice", "/api/v1/schedules")).status_code == 403
    assert (await api.get("owner", "/api/v1/schedules/abc123")).status_code == 404


async def test_a_run_twice_starts_one_record_and_a_refused_run_starts_none(
    api: Api, mini: str, temporal_client: Client, db_engine: Engine
) -> None:
    at = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    made = (
        await api.post("owner", "/api/v1/schedules", _body(mini, {"kind": "workdays", "at": f"{at:%H:%M}"}))
    ).json()
    handle = temporal_client.get_schedule_handle(temporal_schedule_id(made["id"]))
    once = ScheduleBackfill(
        start_at=at - timedelta(seconds=30),
        end_at=at + timedelta(seconds=30),
        overlap=ScheduleOverlapPolicy.ALLOW_ALL,
    )
    await handle.backfill(once)
    [run] = await _runs(api, made["id"], 1)
    assert run["status"] == "started" and run["reason"] == "late"
    await handle.backfill(once)  # Temporal delivers the same occurrence again
    await asyncio.sleep(3)
    assert len(await _runs(api, made["id"], 2, timeout=3)) == 1
    with session_scope(db_engine) as session:
        started = session.exec(
            select(func.count()).select_from(RecordRow).where(RecordRow.definition_key == mini)
        ).one()
    assert started == 1

    # The definition is republished with a field the schedule does not give: the next run is refused,
    # in the engine's words (zh and en), and starts nothing.
    due = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
    soon = (
        await api.post(
            "owner", "/api/v1/schedules", _body(mini, {"kind": "workdays", "at": f"{due:%H:%M:%S}"})
        )
    ).json()
    stricter = MINI.replace(
        "  - {name: risk, type: int, min: 1, max: 5}\n",
        "  - {name: risk, type: int, min: 1, max: 5}\n"
        "  - {name: site, type: string, required: true, label: {zh: 站点, en: Site}}\n",
    )
    assert stricter != MINI
    await api.publish_mini(mini, stricter)
    [refused] = await _runs(api, soon["id"], 1)
    assert (refused["status"], refused["reason"], refused["record_id"]) == ("refused", "MissingFields", None)
    assert "Site" in refused["message"]
    with session_scope(db_engine) as session:
        row = session.exec(select(ScheduleRunRow).where(ScheduleRunRow.schedule_id == soon["id"])).one()
    assert row.message_zh and "站点" in row.message_zh
    with session_scope(db_engine) as session:
        assert (
            session.exec(
                select(func.count()).select_from(RecordRow).where(RecordRow.definition_key == mini)
            ).one()
            == 1
        )
