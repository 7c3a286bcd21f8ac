"""definitions/library/release.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

from typing import Any

from tests.library.conftest import LibraryApi, error_paths, moves

PLAN: dict[str, Any] = {
    "release_plan": "Deploy mail relay 2.2 to both nodes",
    "test_plan": "Regression suite in UAT",
    "rollback_plan": "Redeploy 2.1",
    "acceptance_criteria": "All regression tests green; mail flows through both nodes",
    "planned_start": "2026-03-07T14:00:00+08:00",
    "planned_end": "2026-03-07T16:00:00+08:00",
}


async def built(api: LibraryApi, version: str = "2.2.0") -> str:
    """A release planned by rita and built by rob (the recorded builder), awaiting test sign-off."""
    await api.ensure("release")
    rec = await api.started("rita", "release", "Mail relay 2.2")
    rel = rec["id"]
    assert rec["number"].startswith("REL") and rec["state"] == "planning"
    assert rec["assignment_group"] == "release_team"
    r = await api.fire("rita", rel, "start_build", **{k: v for k, v in PLAN.items() if k != "rollback_plan"})
    assert r.status_code == 422 and error_paths(r) == {"fields.rollback_plan"}
    rec = await api.fired("rita", rel, "start_build", **PLAN)
    assert rec["state"] == "building"
    rec = await api.fired("rob", rel, "build_complete", version=version)
    assert rec["state"] == "testing" and rec["fields"]["builder"] == "rob" and rec["fields"]["built_at"]
    rec = await api.fired(
        "rob", rel, "submit_tests", test_environment="UAT-2", test_report="412 tests passed"
    )
    assert rec["state"] == "test_signoff"
    return str(rel)


async def signed_off_and_deployed(api: LibraryApi, rel: str) -> dict[str, Any]:
    task = await api.pending_task("quinn", rel, "test_signoff")
    out = await api.decided("quinn", task["id"])
    assert out["record"]["state"] == "authorisation" and out["record"]["fields"]["tested"] is True
    auth = await api.pending_task("rita", rel, "release_authorisation")
    assert auth["eligible"] == ["rita"]
    r = await api.decide("quinn", auth["id"])
    assert r.status_code == 403 and "not an approver" in r.json()["detail"]
    out = await api.decided("rita", auth["id"])
    assert out["state"] == "approved" and out["record"]["state"] == "scheduled"
    rec = await api.fired("rita", rel, "deploy")
    assert rec["state"] == "deploying"
    rec = await api.fired("rita", rel, "deployed", deployment_notes="Node 1 and 2 upgraded")
    assert rec["state"] == "verifying" and rec["fields"]["deployed_at"]
    return rec


async def test_release_with_independent_signoff_authorisation_and_verification(api: LibraryApi) -> None:
    rel = await built(api)
    task = await api.pending_task("rita", rel, "test_signoff")
    # rob built it and sits in QA, but may not sign his own build off; quinn is the only eligible tester.
    assert task["excluded"] == {"rob": "field:builder"} and task["eligible"] == ["quinn"]
    r = await api.decide("rob", task["id"])
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "separation of duties" in detail and "rob" in detail and "builder" in detail
    rec = await api.record("rita", rel)
    assert rec["state"] == "test_signoff" and rec["approvals"][-1]["decisions"] == []

    rec = await signed_off_and_deployed(api, rel)
    # Closing needs the definitive software library and the CMDB updated (003 §12.1).
    r = await api.fire("rita", rel, "verify", verification_notes="Acceptance criteria met")
    assert r.status_code == 409 and "definitive software library" in r.json()["detail"]
    await api.set_fields("rita", rel, dsl_updated=True, cmdb_updated=True)
    rec = await api.fired("rita", rel, "verify", verification_notes="Acceptance criteria met")
    assert rec["state"] == "completed" and rec["final"] is True and rec["fields"]["tested"] is True

    history = await api.history("rita", rel)
    assert [(t, a) for t, _, _, a in moves(history)] == [
        ("start_build", "rita"),
        ("build_complete", "rob"),
        ("submit_tests", "rob"),
        ("signed_off", "system:approval:test_signoff"),
        ("authorised", "system:approval:release_authorisation"),
        ("deploy", "rita"),
        ("deployed", "rita"),
        ("verify", "rita"),
    ]
    decisions = [(h["actor"], h["details"]["step"]) for h in history if h["action"] == "approval_decision"]
    assert decisions == [("quinn", "test_signoff"), ("rita", "release_authorisation")]


async def test_release_refused_signoff_then_rolled_back(api: LibraryApi) -> None:
    rel = await built(api)
    # QA refuses the first build: back to building, and it must be rebuilt and tested again.
    task = await api.pending_task("quinn", rel, "test_signoff")
    out = await api.decided("quinn", task["id"], "reject")
    assert out["state"] == "rejected" and out["record"]["state"] == "building"
    assert out["record"]["fields"]["tested"] is False
    await api.fired("rob", rel, "build_complete", version="2.2.1")
    await api.fired("rob", rel, "submit_tests", test_environment="UAT-2", test_report="All passed")

    await signed_off_and_deployed(api, rel)
    r = await api.fire("rita", rel, "roll_back")
    assert r.status_code == 422 and error_paths(r) == {"fields.rollback_notes"}
    rec = await api.fired(
        "rita", rel, "roll_back", rollback_notes="Node 2 failed health checks; 2.1 redeployed"
    )
    assert rec["state"] == "rolled_back" and rec["final"] is True and rec["state_category"] == "closed"
    r = await api.fire("rita", rel, "verify", verification_notes="late")
    assert r.status_code == 409

    trail = [t for t, *_ in moves(await api.history("rita", rel))]
    assert trail == [
        "start_build",
        "build_complete",
        "submit_tests",
        "signoff_refused",
        "build_complete",
        "submit_tests",
        "signed_off",
        "authorised",
        "deploy",
        "deployed",
        "roll_back",
    ]
