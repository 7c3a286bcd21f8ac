"""definitions/library/service_report.yaml — the service report process (服务报告, seed 002 §8.3.2) —
end to end through the API on a real Temporal server: plan → compile → review/approve (separation of
duties) → submit → archive, and its on-time submission indicator."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from tests.library.conftest import LibraryApi, ensure_users


@pytest.fixture(scope="module", autouse=True)
def _people(db_engine: Engine) -> None:
    # slo compiles reports and also owns processes: separation of duties keeps them from approving their own.
    ensure_users(
        db_engine,
        [("slm1", ["service_level_manager"], []), ("slo", ["service_level_manager", "process_owner"], [])],
    )


def _at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_a_service_report_runs_from_plan_to_archive(api: LibraryApi) -> None:
    await api.ensure("service_report")
    key = uuid.uuid4().hex[:6]
    rec = await api.started(
        "slo",
        "service_report",
        f"November report {key}",
        agreement="erp",
        period_start="2026-11-01T00:00:00+00:00",
        period_end="2026-12-01T00:00:00+00:00",
        due_date=_at(5),
    )
    assert rec["number"].startswith("SRP") and rec["state"] == "planned"
    rec = await api.fired("slo", rec["id"], "start")
    assert rec["fields"]["compiler"] == "slo"
    rec = await api.fired("slo", rec["id"], "send_for_review", report="Availability 99.7 %, all targets met")
    assert rec["state"] == "review"
    rid = rec["id"]
    task = await api.pending_task("owner", rid, "report_review")
    # The compiler may not approve their own report, even as a process owner (separation of duties).
    r = await api.decide("slo", task["id"], "approve")
    assert r.status_code == 403 and r.json()["type"].endswith("separationofduties"), r.text
    await api.decided("owner", task["id"], "approve")
    rec = await api.record("slo", rid)
    assert rec["state"] == "approved"
    rec = await api.fired("slo", rec["id"], "submit", recipients="customer@example.test")
    assert rec["state"] == "submitted" and rec["fields"]["submitted_at"]
    rec = await api.fired("slo", rec["id"], "archive")
    assert rec["state"] == "archived" and rec["final"]
    r = await api.get("owner", "/api/v1/reports/kpis", params={"definition": "service_report"})
    assert r.status_code == 200, r.text
    indicators = {k["key"]: k for k in r.json()["indicators"]}
    assert indicators["report_on_time_rate"]["value"] is not None
    assert indicators["reports_submitted"]["value"] >= 1


async def test_a_monthly_schedule_plans_the_report_of_the_month_before(
    api: LibraryApi, temporal_client: Client
) -> None:
    """Issue 21: the service report is started on a schedule — the first working day of each month —
    with its period and due date filled for each occurrence ($previous_month.start/.end,
    $occurrence+Nd), so the record a run starts covers the month before and is due five days later."""
    await api.ensure("service_report")
    zone = ZoneInfo("Asia/Shanghai")
    today = datetime.now(zone)
    occurrence = datetime(today.year, today.month, 1, 9, 0, tzinfo=zone)  # every day works: no calendar
    body = {
        "name": "月度服务报告",
        "definition": "service_report",
        "title": "Monthly service report",
        "fields": {
            "agreement": "erp",
            "period_start": "$previous_month.start",
            "period_end": "$previous_month.end",
            "due_date": "$occurrence+5d",
        },
        "rule": {"kind": "month_first_workday", "at": "09:00"},
        "calendar": None,
        "timezone": "Asia/Shanghai",
        "catch_up": "once",
    }
    r = await api.post(
        "owner", "/api/v1/schedules", {**body, "fields": {**body["fields"], "due_date": "$occurrence+5w"}}
    )
    assert r.status_code == 422 and "due_date" in r.text  # an unknown placeholder, refused naming the field
    r = await api.post("owner", "/api/v1/schedules", body)
    assert r.status_code == 201, r.text
    made = r.json()
    first_next = datetime.fromisoformat(made["next_runs"][0].replace("Z", "+00:00")).astimezone(zone)
    assert (first_next.day, first_next.hour) == (1, 9)  # the first of a month, 09:00 local
    # The first of this month has passed: Temporal catches it up (a backfill is exactly that).
    handle = temporal_client.get_schedule_handle(made["temporal_schedule_id"])
    await handle.backfill(
        ScheduleBackfill(
            start_at=occurrence - timedelta(seconds=30),
            end_at=occurrence + timedelta(seconds=30),
            overlap=ScheduleOverlapPolicy.ALLOW_ALL,
        )
    )
    for _ in range(120):
        runs = (await api.get("owner", f"/api/v1/schedules/{made['id']}/runs")).json()
        if runs:
            break
        await asyncio.sleep(0.5)
    [run] = runs
    assert run["status"] == "started", run
    record = await api.record("slo", run["record_id"])
    fields = record["fields"]

    def local(name: str) -> datetime:
        return datetime.fromisoformat(str(fields[name]).replace("Z", "+00:00")).astimezone(zone)

    month_before = (occurrence.replace(day=1) - timedelta(days=1)).replace(day=1, hour=0)
    assert local("period_start") == month_before
    assert local("period_end") == occurrence.replace(hour=0)
    assert local("due_date") == occurrence + timedelta(days=5)
    assert fields["agreement"] == "erp" and record["state"] == "planned"
    await api.http.delete(f"/api/v1/schedules/{made['id']}", headers=api.headers("owner"))
