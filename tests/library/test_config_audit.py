"""definitions/library/config_audit.yaml — the configuration audit (配置审计, seed 002 §8.3.5, seed 003
§11.1) — end to end through the API on a real Temporal server, and its indicators (003 App. B.11,
002 §8.3.5.2) from the audits and the CMDB's CI versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.library.conftest import LibraryApi, ensure_users


@pytest.fixture(scope="module", autouse=True)
def _people(db_engine: Engine) -> None:
    # cfo audits and also owns processes: separation of duties still keeps them from accepting their own report.
    ensure_users(
        db_engine,
        [("cfg", ["configuration_manager"], []), ("cfo", ["configuration_manager", "process_owner"], [])],
    )


def _at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _audit(
    api: LibraryApi, definition: str, due_in_days: float, *, checked: int, correct: int, unauthorised: int
) -> dict[str, Any]:
    """An audit of a fresh server CI, started, with its result submitted for review."""
    key = uuid.uuid4().hex[:6]
    server = await api.post(
        "cfg",
        "/api/v1/cmdb/cis",
        {"class": "server", "name": f"a-{key}", "attributes": {"hostname": f"a-{key}"}},
    )
    assert server.status_code == 201, server.text
    rec = await api.started(
        "cfg",
        definition,
        f"Quarterly audit {key}",
        scope="Production servers",
        due_date=_at(due_in_days),
        cis=[server.json()["id"]],
        baseline="2026-Q4",
    )
    assert rec["number"].startswith("CFA") and rec["state"] == "planned"
    rec = await api.fired("cfg", rec["id"], "start")
    assert rec["fields"]["auditor"] == "cfg"
    rec = await api.fired(
        "cfg",
        rec["id"],
        "submit",
        cis_checked=checked,
        cis_correct=correct,
        unauthorised_found=unauthorised,
        report="Status, location and versions checked against the racks",
        discrepancies="2 wrong locations",
    )
    assert rec["state"] == "review"
    return rec


async def _review(
    api: LibraryApi, rec: dict[str, Any], who: str = "owner", approve: bool = True
) -> dict[str, Any]:
    task = await api.pending_task(who, rec["id"], "report_review")
    return await api.decided(who, task["id"], "approve" if approve else "reject")


async def test_an_audit_runs_from_plan_to_closure_with_its_checks(api: LibraryApi) -> None:
    await api.ensure("config_audit")
    # The result must add up: no more CIs correct than checked; the guard's words say so.
    key = uuid.uuid4().hex[:6]
    rec = await api.started("cfo", "config_audit", f"Audit {key}", scope="Databases", due_date=_at(10))
    # Configuration managers and process owners plan audits; a requester cannot.
    r = await api.start("alice", "config_audit", "Mine", scope="x", due_date=_at(1))
    assert r.status_code == 403, r.text
    r = await api.fire("cfo", rec["id"], "start")
    assert r.status_code == 200, r.text
    r = await api.fire(
        "cfo", rec["id"], "submit", cis_checked=3, cis_correct=5, unauthorised_found=0, report="r"
    )
    assert r.status_code == 409 and "No more configuration items can be correct" in r.text, r.text
    r = await api.fire("cfo", rec["id"], "submit", cis_checked=3)
    assert r.status_code == 422, r.text  # the report and the counts are required
    rec = await api.fired(
        "cfo", rec["id"], "submit", cis_checked=3, cis_correct=3, unauthorised_found=0, report="r"
    )
    # The auditor cannot accept their own report (separation of duties), though a process owner.
    task = await api.pending_task("owner", rec["id"], "report_review")
    r = await api.decide("cfo", task["id"])
    assert r.status_code == 403 and r.json()["type"].endswith("separationofduties"), r.text
    # Returned for more work, then accepted by another process owner.
    out = await _review(api, rec, approve=False)
    assert out["record"]["state"] == "auditing", out
    rec = await api.fired(
        "cfo", rec["id"], "submit", cis_checked=3, cis_correct=3, unauthorised_found=0, report="r2"
    )
    out = await _review(api, rec)
    assert out["record"]["state"] == "closed" and out["record"]["fields"]["completed_at"]


async def test_the_indicators_count_accuracy_unauthorised_cis_and_on_time_audits(api: LibraryApi) -> None:
    key = await api.publish_shortened("config_audit")  # a fresh key: only this test's audits count

    async def audit(due: float, checked: int, correct: int, unauthorised: int, close: bool) -> None:
        rec = await _audit(api, key, due, checked=checked, correct=correct, unauthorised=unauthorised)
        if close:
            await _review(api, rec)

    await audit(10, 10, 8, 1, True)  # on time
    await audit(20, 5, 5, 2, True)  # on time
    await audit(-1, 4, 4, 0, False)  # open and past due: late
    r = await api.get("owner", "/api/v1/reports/kpis", params={"definition": key})
    assert r.status_code == 200, r.text
    kpis = {k["key"]: k for k in r.json()["indicators"]}
    assert (kpis["cmdb_accuracy"]["numerator"], kpis["cmdb_accuracy"]["denominator"]) == (13, 15)
    assert kpis["unauthorised_cis"]["value"] == 3
    assert (kpis["audit_on_time_rate"]["numerator"], kpis["audit_on_time_rate"]["denominator"]) == (2, 3)
    changes = kpis["ci_change_request_ratio"]
    assert changes["denominator"] >= 3 and changes["label"]["zh"] == "配置项变更请求比率"
