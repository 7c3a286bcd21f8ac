"""definitions/library/problem.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.library.conftest import LibraryApi, error_paths, moves, sla


async def test_problem_through_known_error_and_change_to_closure(api: LibraryApi) -> None:
    await api.ensure("problem", "change")
    # Found by trend analysis: impact and urgency come when the problem manager classifies it.
    rec = await api.started("sam", "problem", "Mail relay crashes weekly", source="trend_analysis")
    prb = rec["id"]
    assert rec["number"].startswith("PRB") and rec["assignment_group"] == "problem_managers"
    assert rec["priority"] is None and sla(rec, "resolution")["state"] == "pending"

    r = await api.fire("sam", prb, "classify", assignee="sam")
    assert r.status_code == 403  # classification is the problem manager's
    r = await api.fire("pam", prb, "classify", assignee="pam")
    assert r.status_code == 422
    assert error_paths(r) == {"fields.impact", "fields.urgency", "fields.category"}
    rec = await api.fired(
        "pam", prb, "classify", assignee="pam", impact="2", urgency="1", category="software"
    )
    assert rec["state"] == "investigating" and rec["priority"] == "2"
    assert sla(rec, "resolution")["state"] == "running"

    rec = await api.fired("pam", prb, "record_workaround", workaround="Restart the relay nightly")
    assert rec["state"] == "investigating" and rec["fields"]["workaround"] == "Restart the relay nightly"

    r = await api.fire("pam", prb, "publish_known_error", root_cause="Memory leak in relay 2.1")
    assert r.status_code == 422 and error_paths(r) == {"fields.kb_article"}
    rec = await api.fired(
        "pam", prb, "publish_known_error", root_cause="Memory leak in relay 2.1", kb_article="KB0042"
    )
    assert rec["state"] == "known_error" and rec["fields"]["known_error"] is True
    assert rec["fields"]["known_error_at"]

    # The fix goes through change management: a linked change, pointing back at the problem.
    rec = await api.fired("pam", prb, "raise_change")
    assert rec["state"] == "awaiting_change" and rec["state_category"] == "waiting"
    change = await api.record("cm", rec["fields"]["change"])
    assert change["definition"] == "change" and change["state"] == "new"
    assert change["fields"]["change_type"] == "normal" and change["fields"]["related_problem"] == prb
    assert change["fields"]["reason"] == "Memory leak in relay 2.1" and change["requester"] == "pam"
    r = await api.fire("pam", prb, "raise_change")
    assert r.status_code == 409 and "is “Awaiting change”" in r.json()["detail"]

    r = await api.fire("pam", prb, "resolve", resolution_code="fixed_by_change")
    assert r.status_code == 422 and error_paths(r) == {"fields.resolution_notes"}
    rec = await api.fired(
        "pam", prb, "resolve", resolution_code="fixed_by_change", resolution_notes="Relay 2.2 deployed"
    )
    assert rec["state"] == "resolved" and sla(rec, "resolution")["state"] == "met"

    r = await api.fire("sam", prb, "close", closure_notes="fine")
    assert r.status_code == 403
    r = await api.fire("pam", prb, "close")
    assert r.status_code == 422 and error_paths(r) == {"fields.closure_notes"}
    rec = await api.fired("pam", prb, "close", closure_notes="No recurrence in 30 days")
    assert rec["state"] == "closed" and rec["final"] is True

    history = await api.history("pam", prb)
    assert [(t, a) for t, _, _, a in moves(history)] == [
        ("classify", "pam"),
        ("record_workaround", "pam"),
        ("publish_known_error", "pam"),
        ("raise_change", "pam"),
        ("resolve", "pam"),
        ("close", "pam"),
    ]
    link = next(h for h in history if h["action"] == "linked_record_created")
    assert link["details"]["definition"] == "change" and link["details"]["number"] == change["number"]


async def test_a_resolved_problem_resumes_its_waiting_incidents_and_counts_reopens(api: LibraryApi) -> None:
    """Issue 20: the problem's `resolve` resumes the incidents waiting for it, each through its own
    workflow and rules; one that is not waiting refuses, and the refusal is recorded on the problem.
    A reopen is counted (`times_reopened`)."""
    await api.ensure("problem", "incident")
    waiting = (await api.started("alice", "incident", "Mail bounces", impact="2", urgency="2"))["id"]
    await api.fired("sam", waiting, "accept", assignee="sam")
    assert (await api.fired("sam", waiting, "await_problem"))["state"] == "awaiting_problem"
    busy = (await api.started("alice", "incident", "Mail slow", impact="2", urgency="2"))["id"]
    await api.fired("sam", busy, "accept", assignee="sam")

    prb = (await api.started("sam", "problem", "Relay leaks memory", source="trend_analysis"))["id"]
    await api.fired("pam", prb, "classify", assignee="pam", impact="2", urgency="1", category="software")
    rec = await api.set_fields("pam", prb, incidents=[waiting, busy])
    assert rec["fields"]["times_reopened"] == 0
    rec = await api.fired(
        "pam", prb, "resolve", resolution_code="fixed_without_change", resolution_notes="Relay patched"
    )
    assert rec["state"] == "resolved"

    resumed = await api.record("sam", waiting)
    assert resumed["state"] == "in_progress"
    assert moves(await api.history("sam", waiting))[-1][3].startswith("system:link:")
    entries = {
        e["details"]["record"]: e["details"]
        for e in await api.history("pam", prb)
        if e["action"] == "linked_action"
    }
    assert entries[waiting]["outcome"] == "moved"
    assert (entries[busy]["outcome"], entries[busy]["kind"]) == ("refused", "WrongState")
    assert (await api.record("sam", busy))["state"] == "in_progress"

    rec = await api.fired("pam", prb, "reopen", comment="It crashed again")
    assert rec["fields"]["times_reopened"] == 1


def _plans(days_ahead: int) -> dict[str, Any]:
    day = date.today() + timedelta(days=days_ahead)
    return {
        "risk": "low",
        "risk_assessment": "One relay at a time",
        "business_impact": "None",
        "affected_cis": [f"relay-{uuid.uuid4().hex[:8]}"],
        "implementation_plan": "Upgrade the relay to 2.2",
        "backout_plan": "Reinstall 2.1",
        "test_plan": "Send test mail",
        "implementer": "sam",
        "planned_start": f"{day}T14:00:00+08:00",
        "planned_end": f"{day}T15:00:00+08:00",
    }


async def _change_to_review(api: LibraryApi, chg: str, outcome: str) -> None:
    await api.fired("cm", chg, "assess", assignee="cm")
    rec = await api.fired("cm", chg, "submit", **_plans(70))
    assert rec["state"] == "cab_review"
    task = rec["approvals"][-1]["id"]
    await api.decided("carol", task)
    assert (await api.decided("dave", task))["record"]["state"] == "scheduled"
    await api.fired("sam", chg, "start")
    await api.fired("sam", chg, "implemented", implementation_notes="Relay on 2.2")
    if outcome == "successful":
        rec = await api.fired("cm", chg, "confirm_success")
    else:
        rec = await api.fired("cm", chg, "report_failure", comment="The agent stopped")
    assert rec["state"] == "review" and rec["fields"]["outcome"] == outcome


async def test_a_completed_change_resolves_its_problem_which_resumes_its_incidents(
    api: LibraryApi,
) -> None:
    """Issue 20: closing the fixing change as completed resolves the problem through the problem's own
    `resolve` (its required fields given by the change's effect), which resumes the incidents waiting
    for it — three records, each moved by its own workflow and rules, each move audited."""
    await api.ensure("problem", "incident", "change")
    waiting = (await api.started("alice", "incident", "Mail bounces again", impact="2", urgency="2"))["id"]
    await api.fired("sam", waiting, "accept", assignee="sam")
    await api.fired("sam", waiting, "await_problem")
    prb = (await api.started("sam", "problem", "Relay drops mail", source="trend_analysis"))["id"]
    await api.fired("pam", prb, "classify", assignee="pam", impact="2", urgency="1", category="software")
    await api.set_fields("pam", prb, incidents=[waiting])
    rec = await api.fired("pam", prb, "raise_change", root_cause="Relay 2.1 drops long headers")
    assert rec["state"] == "awaiting_change"
    chg = rec["fields"]["change"]

    await _change_to_review(api, chg, "successful")
    await api.set_fields("cm", chg, cmdb_updated=True)
    rec = await api.fired("cm", chg, "close", review_notes="Went to plan")
    assert rec["state"] == "completed"

    problem = await api.record("pam", prb)
    assert problem["state"] == "resolved"
    assert problem["fields"]["resolution_code"] == "fixed_by_change"
    assert moves(await api.history("pam", prb))[-1][3] == f"system:link:{rec['number']}"
    assert (await api.record("sam", waiting))["state"] == "in_progress"
    acted = [e["details"] for e in await api.history("cm", chg) if e["action"] == "linked_action"]
    assert [(a["record"], a["outcome"]) for a in acted] == [(prb, "moved")]


async def test_a_failed_change_sends_its_problem_back_to_investigation(api: LibraryApi) -> None:
    await api.ensure("problem", "change")
    prb = (await api.started("sam", "problem", "Disk fills nightly", source="trend_analysis"))["id"]
    await api.fired("pam", prb, "classify", assignee="pam", impact="3", urgency="2", category="software")
    rec = await api.fired("pam", prb, "raise_change", root_cause="Log rotation off")
    chg = rec["fields"]["change"]
    await _change_to_review(api, chg, "failed")
    rec = await api.fired("cm", chg, "close", review_notes="Rotation broke the agent")
    assert rec["state"] == "failed"
    problem = await api.record("pam", prb)
    assert problem["state"] == "investigating" and problem["fields"].get("change") is None
