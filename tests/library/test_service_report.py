"""definitions/library/service_report.yaml — the service report process (服务报告, seed 002 §8.3.2) —
end to end through the API on a real Temporal server: plan → compile → review/approve (separation of
duties) → submit → archive, and its on-time submission indicator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

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
