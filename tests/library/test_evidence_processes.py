"""Issue 20's library processes end to end through the API, on a real worker and Temporal: routine
operation (SOP checklist; an anomaly raises a linked incident), continuity drill (plan review, drill
checklist, the report required before closing) and security incident (restricted visibility, each
phase's record before the next)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from core.settings import Settings
from tests.library.conftest import LibraryApi, ensure_users, moves

pytestmark = pytest.mark.db
PEOPLE = [
    ("bcm", ["agent", "continuity_manager"], []),
    ("ciso", ["agent", "security_officer"], ["security"]),
]
ALL_PASS = {"backup": "pass", "capacity": "pass", "alerts": "pass", "services": "pass", "logs": "pass"}


@pytest.fixture
def settings(database_url: str, task_queue: str, temporal_address: str, tmp_path: Path) -> Settings:
    """The library's app, with an attachment store of the test's own."""
    return Settings(
        database_url=database_url,
        task_queue=task_queue,
        temporal_address=temporal_address,
        attachment_dir=tmp_path / "files",
    )


async def attach(api: LibraryApi, user: str, ref: str, kind: str, name: str = "doc.pdf") -> dict[str, Any]:
    r = await api.http.post(
        f"/api/v1/processes/{ref}/attachments",
        files={"file": (name, b"%PDF-1.4 evidence", "application/pdf")},
        data={"kind": kind},
        headers=api.headers(user),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_routine_operation_on_time_and_with_an_anomaly(api: LibraryApi) -> None:
    await api.ensure("incident", "routine_operation")
    due = "2099-01-01T09:00:00+08:00"
    fine = await api.started("sam", "routine_operation", "Daily inspection", sop="SOP-DB-01", due_at=due)
    assert fine["number"].startswith("RTN")
    await api.fired("sam", fine["id"], "start")
    r = await api.fire("sam", fine["id"], "complete", checks={"backup": "pass", "cpu": "pass"})
    assert r.status_code == 422 and "the checklist has no item 'cpu'" in r.json()["detail"]
    r = await api.fire("sam", fine["id"], "complete", checks={"backup": "pass"})
    assert r.status_code == 409 and "every checklist item must be answered" in r.json()["detail"]
    rec = await api.fired("sam", fine["id"], "complete", checks=ALL_PASS)
    assert rec["state"] == "completed" and rec["fields"]["done_at"]

    odd = await api.started("sam", "routine_operation", "Nightly backup check", sop="SOP-BK-02", due_at=due)
    await api.fired("sam", odd["id"], "start")
    checks = {**ALL_PASS, "capacity": {"result": "fail", "note": "/data at 93%"}}
    rec = await api.fired("sam", odd["id"], "complete", checks=checks)
    assert rec["state"] == "anomaly"
    assert rec["fields"]["anomaly"] == "- 存储与磁盘使用率 / Storage and disk usage: /data at 93%"
    incident_id = rec["fields"]["incident"]
    incident = await api.record("sam", incident_id)
    assert incident["definition"] == "incident" and incident["title"].startswith(
        "例行操作异常 / Routine anomaly"
    )
    assert [link["number"] for link in rec["links"]] == [incident["number"]]
    rec = await api.fired("sam", odd["id"], "close", comment="Disk extended under the incident")
    assert rec["final"]

    r = await api.get("owner", "/api/v1/reports/kpis", params={"definition": "routine_operation"})
    assert r.status_code == 200, r.text
    kpis = {k["key"]: k for k in r.json()["indicators"]}
    assert kpis["routine_on_time_rate"]["source"] == "002 §8.4.1.2 a)"
    assert kpis["routine_on_time_rate"]["value"] == 100.0
    assert kpis["routine_sop_count"]["value"] >= 2


async def test_continuity_drill_from_plan_to_report(api: LibraryApi, db_engine: Engine) -> None:
    ensure_users(db_engine, PEOPLE)
    await api.ensure("improvement", "continuity_drill")
    fields = {"plan": "Core banking DR plan v3", "scope": "full", "planned_at": "2099-06-01T20:00:00+08:00"}
    drill = await api.started("sam", "continuity_drill", "Full DR drill 2099", **fields)
    r = await api.fire("sam", drill["id"], "submit_plan")
    assert r.status_code == 422 and "needs an attachment first: Drill plan" in r.json()["detail"]
    await attach(api, "sam", drill["id"], "drill_plan", "plan.pdf")
    rec = await api.fired("sam", drill["id"], "submit_plan")
    assert rec["state"] == "plan_review"
    task = await api.pending_task("bcm", drill["id"], "plan_review")
    out = await api.decided("bcm", task["id"])
    assert out["record"]["state"] == "ready"
    await api.fired("sam", drill["id"], "begin")
    checks = {"notified": "pass", "switched": "pass", "rto": "pass", "rpo": "pass", "fallback": "pass"}
    await api.fired("sam", drill["id"], "finish", checks=checks)
    r = await api.fire("bcm", drill["id"], "close", findings="RTO 38 min", improvements="Automate DNS")
    assert r.status_code == 422 and "Drill report" in r.json()["detail"]
    await attach(api, "sam", drill["id"], "drill_report", "report.pdf")
    rec = await api.fired("bcm", drill["id"], "close", findings="RTO 38 min", improvements="Automate DNS")
    assert rec["state"] == "closed"
    proposal = await api.record("bcm", rec["fields"]["improvement"])  # the improvement register
    assert proposal["definition"] == "improvement" and proposal["state"] == "proposed"
    assert proposal["fields"]["goal"] == "Automate DNS" and proposal["fields"]["source"] == "drill"
    assert [t for t, *_ in moves(await api.history("bcm", drill["id"]))] == [
        "submit_plan",
        "plan_approved",
        "begin",
        "finish",
        "close",
    ]
    r = await api.get("owner", "/api/v1/reports/kpis", params={"definition": "continuity_drill"})
    kpis = {k["key"]: k for k in r.json()["indicators"]}
    assert kpis["drill_report_completeness"]["value"] == 100.0
    assert kpis["full_drills"]["value"] >= 1


async def test_security_incident_restricted_and_phased(api: LibraryApi, db_engine: Engine) -> None:
    ensure_users(db_engine, PEOPLE)
    await api.ensure("security_incident")
    rec = await api.started("alice", "security_incident", "Phishing mail opened", category="malware")
    ref = rec["id"]
    assert (await api.get("sam", f"/api/v1/processes/{ref}")).status_code == 404  # an agent outside security
    assert (await api.get("sam", f"/api/v1/processes/{ref}/attachments")).status_code == 404
    r = await api.fire("ciso", ref, "classify")
    assert r.status_code == 422 and "Severity" in r.json()["detail"]
    await api.fired("ciso", ref, "classify", severity="3")
    await api.fired("sec", ref, "contain", containment="Host isolated")
    await api.fired("sec", ref, "eradicate", eradication="Malware removed, credentials reset")
    await api.fired("sec", ref, "recover", recovery="Host re-imaged and back in service")
    r = await api.fire("ciso", ref, "close", report="Lessons: mail filter rule", reported_to="CISO office")
    assert r.status_code == 422 and "Incident report" in r.json()["detail"]
    await attach(api, "ciso", ref, "report", "report.pdf")
    rec = await api.fired("ciso", ref, "close", report="Lessons: mail filter rule", reported_to="CISO office")
    assert rec["state"] == "closed"
    r = await api.get("ciso", "/api/v1/reports/kpis", params={"definition": "security_incident"})
    assert r.status_code == 200, r.text
    kpis = {k["key"]: k for k in r.json()["indicators"]}
    assert kpis["security_record_completeness"]["value"] == 100.0


MORE_PEOPLE: list[tuple[str, list[str], list[str]]] = [
    ("cap", ["agent", "capacity_manager"], []),
    ("vendor_mgr", ["agent", "supplier_manager"], []),
    ("qm", ["agent", "quality_manager"], []),
    ("imp", ["agent", "improvement_manager"], []),
]


async def kpis_of(api: LibraryApi, definition: str) -> dict[str, Any]:
    r = await api.get("owner", "/api/v1/reports/kpis", params={"definition": definition})
    assert r.status_code == 200, r.text
    return {k["key"]: k for k in r.json()["indicators"]}


async def test_capacity_review_report_before_submission(api: LibraryApi, db_engine: Engine) -> None:
    ensure_users(db_engine, MORE_PEOPLE)
    await api.ensure("capacity_review")
    rec = await api.started(
        "sam", "capacity_review", "Q3 capacity", period="2099-Q3", due_at="2099-10-10T18:00:00+08:00"
    )
    await api.fired("sam", rec["id"], "start")
    body = {"measurements": "CPU p95 61%", "forecast": "+20% users", "plan": "Add 2 nodes in Q4"}
    r = await api.fire("sam", rec["id"], "submit", **body)
    assert r.status_code == 422 and "Capacity report" in r.json()["detail"]
    await attach(api, "sam", rec["id"], "capacity_report", "capacity.xlsx")
    rec = await api.fired("sam", rec["id"], "submit", **body)
    assert rec["state"] == "submitted" and rec["fields"]["submitted_at"]
    assert (await api.fire("sam", rec["id"], "accept", actions="Order nodes")).status_code == 403
    await api.fired("cap", rec["id"], "accept", actions="Order nodes")
    rec = await api.fired("cap", rec["id"], "close", comment="Nodes in service")
    assert rec["final"]
    kpi = (await kpis_of(api, "capacity_review"))["capacity_report_submission_rate"]
    assert kpi["value"] == 100.0 and kpi["source"] == "002 §8.3.8.2 b)"


async def test_supplier_review_with_findings(api: LibraryApi, db_engine: Engine) -> None:
    ensure_users(db_engine, MORE_PEOPLE)
    await api.ensure("supplier_review")
    rec = await api.started(
        "vendor_mgr", "supplier_review", "Acme DC ops 2099", supplier="Acme", contract="C-17"
    )
    await api.fired("vendor_mgr", rec["id"], "start")
    await attach(api, "vendor_mgr", rec["id"], "service_report", "acme.pdf")
    assessment = {
        "project_management": "pass",
        "technical": "pass",
        "quality": {"result": "fail", "note": "2 of 12 SLA targets missed"},
        "staffing": "pass",
        "security": "pass",
    }
    values: dict[str, Any] = {"assessment": assessment, "sla_met": False, "conclusion": "improve"}
    r = await api.fire("vendor_mgr", rec["id"], "conclude", **values)
    assert r.status_code == 422 and "fields.findings" in {e["path"] for e in r.json()["errors"]}
    rec = await api.fired("vendor_mgr", rec["id"], "conclude", findings="Restore SLA by Q2", **values)
    assert rec["state"] == "follow_up"
    rec = await api.fired("vendor_mgr", rec["id"], "close", comment="SLA met in Q2")
    assert rec["final"]
    kpis = await kpis_of(api, "supplier_review")
    assert kpis["supplier_findings"]["value"] >= 1


async def test_audit_finding_to_verified_closure(api: LibraryApi, db_engine: Engine) -> None:
    ensure_users(db_engine, MORE_PEOPLE)
    await api.ensure("audit_finding")
    rec = await api.started(
        "qm",
        "audit_finding",
        "Change records lack test evidence",
        source="internal_audit",
        nonconformity="actual",
        finding="3 of 20 changes without test reports",
        clause="002 §8.3.4",
    )
    ref = rec["id"]
    await api.fired("qm", ref, "analyse")
    r = await api.fire("qm", ref, "plan_action", action="Require test report attachment")
    assert r.status_code == 422 and "fields.root_cause" in {e["path"] for e in r.json()["errors"]}
    plan = {
        "root_cause": "No gate",
        "action": "Require the test report",
        "action_owner": "sam",
        "due_at": "2099-03-01T18:00:00+08:00",
    }
    await api.fired("qm", ref, "plan_action", **plan)
    await api.fired("sam", ref, "done", comment="Gate added to the change definition")
    rec = await api.fired("qm", ref, "reject", verification="One change still slipped through")
    assert rec["state"] == "acting" and rec["fields"]["effective"] is False
    await api.fired("sam", ref, "done", comment="Gate now blocks")
    rec = await api.fired("qm", ref, "verify", verification="Sampled 10 changes: all with reports")
    assert rec["state"] == "closed" and rec["fields"]["effective"] is True
    kpis = await kpis_of(api, "audit_finding")
    assert kpis["nonconformity_correction_rate"]["source"] == "002 §10.1.2 a)"
    assert kpis["nonconformity_correction_effectiveness"]["value"] is not None


async def test_improvement_from_proposal_to_register(api: LibraryApi, db_engine: Engine) -> None:
    ensure_users(db_engine, MORE_PEOPLE)
    await api.ensure("improvement")
    rec = await api.started(
        "sam",
        "improvement",
        "Tune the database connection pool",
        kind="optimisation",
        source="incident_problem",
        goal="p95 under 200 ms",
    )
    ref = rec["id"]
    plan = {
        "plan": "Raise the pool to 50; rollback: 20",
        "owner_user": "sam",
        "target_date": "2099-05-01T18:00:00+08:00",
    }
    r = await api.fire("sam", ref, "submit", **plan)
    assert r.status_code == 422 and "Plan" in r.json()["detail"]
    await attach(api, "sam", ref, "plan", "plan.pdf")
    await api.fired("sam", ref, "submit", **plan)
    task = await api.pending_task("imp", ref, "review")
    out = await api.decided("imp", task["id"])
    assert out["record"]["state"] == "approved"
    await api.fired("sam", ref, "implement")
    await api.fired("sam", ref, "evaluate", observation="Two weeks: p95 170 ms")
    await attach(api, "sam", ref, "report", "review.pdf")
    rec = await api.fired("imp", ref, "close", evaluation="Goal met", achieved=True)
    assert rec["state"] == "closed" and rec["fields"]["completed_at"]
    kpis = await kpis_of(api, "improvement")
    assert kpis["improvement_items"]["source"] == "003 App. B.1"
    assert kpis["improvement_items"]["breakdown"]["optimisation"] >= 1
