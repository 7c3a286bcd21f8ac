"""definitions/library/change.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from cmdb import cis, models
from core.db import session_scope
from tests.library.conftest import LibraryApi, actions, ensure_users, error_paths, moves, set_active

# Two CAB members who also act on changes: ivan requests one, ian implements it. They join the shared
# `cab` group for this module only (deactivated afterwards), so other tests' CAB stays carol/dave/erin.
CAB_EXTRAS: list[tuple[str, list[str], list[str]]] = [
    ("ivan", ["requester", "approver"], ["cab"]),
    ("ian", ["agent", "approver"], ["cab"]),
]

PLANS: dict[str, Any] = {
    "risk": "medium",
    "risk_assessment": "Mail unavailable for 10 minutes",
    "business_impact": "None outside the window",
    "affected_cis": ["mail-relay-01", "mail-relay-02"],
    "implementation_plan": "Upgrade the relays to 2.2, one at a time",
    "backout_plan": "Reinstall 2.1 from the definitive software library",
    "test_plan": "Send and receive test mail through each relay",
    "implementer": "ian",
    # Six weeks ahead: a major change is submitted at least 10 working days before it (change.yaml).
    "planned_start": f"{date.today() + timedelta(days=42)}T14:00:00+08:00",
    "planned_end": f"{date.today() + timedelta(days=42)}T16:00:00+08:00",
}


@pytest.fixture(scope="module", autouse=True)
def cab_extras(db_engine: Engine, library_directory: None) -> Iterator[None]:
    ensure_users(db_engine, CAB_EXTRAS)
    yield
    set_active(db_engine, [name for name, *_ in CAB_EXTRAS], False)


async def assessed(api: LibraryApi, requester: str, title: str, **fields: Any) -> str:
    await api.ensure("change")
    rec = await api.started(requester, "change", title, **fields)
    assert rec["number"].startswith("CHG") and rec["assignment_group"] == "change_management"
    rec = await api.fired("cm", rec["id"], "assess", assignee="cm")
    assert rec["state"] == "assessment"
    return str(rec["id"])


def _relay(db_engine: Engine) -> int:
    with session_scope(db_engine) as session:
        name = f"relay-{uuid.uuid4().hex[:8]}"
        ci = cis.create(
            session,
            model=models.current(session),
            class_name="server",
            name=name,
            attributes={"hostname": name},
            actor="cfg",
        )
        assert ci.id is not None
        return ci.id


async def test_normal_change_through_cab_quorum_with_separation_of_duties(
    api: LibraryApi, db_engine: Engine
) -> None:
    await api.ensure("change")
    rec = await api.started("ivan", "change", "Upgrade mail relays", reason="Memory leak fix")
    chg = rec["id"]
    assert rec["fields"]["change_type"] == "normal" and rec["requester"] == "ivan"
    # Only an emergency change may skip the assessment.
    r = await api.fire("cm", chg, "submit", **PLANS)
    assert r.status_code == 409 and "only an emergency change skips assessment" in r.json()["detail"]
    await api.fired("cm", chg, "assess", assignee="cm")

    # The plans, the back-out plan included, are required before any approval (003 §11.2).
    without_backout = {k: v for k, v in PLANS.items() if k != "backout_plan"}
    r = await api.fire("cm", chg, "submit", **without_backout)
    assert (
        r.status_code == 422 and {"path": "fields.backout_plan", "message": "required"} in r.json()["errors"]
    )
    assert {"path": "fields.backout_plan", "message": "required"} in r.json()["errors"]
    rec = await api.fired("cm", chg, "submit", **PLANS)
    assert rec["state"] == "cab_review"

    task = rec["approvals"][-1]
    assert task["step"] == "cab_approval" and task["state"] == "pending" and task["needed"] == 2
    assert task["excluded"] == {"ivan": "requester", "ian": "field:implementer"}
    assert {"carol", "dave", "erin"} <= set(task["eligible"])
    assert not {"ivan", "ian"} & set(task["eligible"])
    assert any(t["id"] == task["id"] for t in await api.inbox("carol"))
    assert all(t["id"] != task["id"] for t in await api.inbox("ivan"))  # not offered to the requester

    # Separation of duties: neither the requester nor the implementer may approve, though both sit on the CAB.
    r = await api.decide("ivan", task["id"])
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "separation of duties" in detail and "ivan" in detail and "requester" in detail
    r = await api.decide("ian", task["id"])
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "separation of duties" in detail and "ian" in detail and "implementer" in detail

    # Quorum: two CAB members.
    out = await api.decided("carol", task["id"])
    assert out["state"] == "pending" and out["record"]["state"] == "cab_review"
    out = await api.decided("dave", task["id"])
    assert out["state"] == "approved" and out["record"]["state"] == "scheduled"
    r = await api.decide("erin", task["id"])
    assert r.status_code == 409

    # Implement (only the implementer), verify, review.
    r = await api.fire("cm", chg, "start")
    assert r.status_code == 403
    rec = await api.fired("ian", chg, "start")
    assert rec["state"] == "implementing" and rec["fields"]["actual_start"]
    r = await api.fire("ian", chg, "implemented")
    assert r.status_code == 422 and error_paths(r) == {"fields.implementation_notes"}
    rec = await api.fired("ian", chg, "implemented", implementation_notes="Both relays on 2.2")
    assert rec["state"] == "verifying"
    # A CI change proposed on the change, whose CI is retired before it can apply: confirming success
    # applies the CI changes, this one fails, so "CMDB updated" stays unset and the close is refused.
    relay = _relay(db_engine)
    r = await api.post(
        "cm",
        f"/api/v1/processes/{chg}/ci-changes",
        {"action": "update", "ci": relay, "attributes": {"os": "2.2"}},
    )
    assert r.status_code == 201, r.text
    with session_scope(db_engine) as session:
        cis.retire(session, ci_id=relay, actor="cfg")
    rec = await api.fired("cm", chg, "confirm_success")
    assert rec["state"] == "review" and rec["fields"]["outcome"] == "successful"
    assert rec["fields"]["cmdb_updated"] is False
    r = await api.fire("cm", chg, "close", review_notes="Went to plan")
    assert r.status_code == 409 and "CMDB" in r.json()["detail"]
    await api.set_fields("cm", chg, cmdb_updated=True)
    rec = await api.fired("cm", chg, "close", review_notes="Went to plan")
    assert rec["state"] == "completed" and rec["final"] is True

    history = await api.history("cm", chg)
    assert [t for t, *_ in moves(history)] == [
        "assess",
        "submit",
        "approve",
        "start",
        "implemented",
        "confirm_success",
        "close",
    ]
    approve = next(m for m in moves(history) if m[0] == "approve")
    assert approve[1:3] == ("cab_review", "scheduled") and approve[3] == "system:approval:cab_approval"
    pending = next(h for h in history if h["action"] == "approval_pending")
    assert pending["details"]["excluded"] == {"ivan": "requester", "ian": "field:implementer"}
    decisions = [
        (h["actor"], h["details"]["decision"]) for h in history if h["action"] == "approval_decision"
    ]
    assert decisions == [("carol", "approve"), ("dave", "approve")]


async def test_cab_rejects_a_change(api: LibraryApi) -> None:
    chg = await assessed(api, "alice", "Replace the core switch during business hours")
    rec = await api.fired("cm", chg, "submit", **PLANS)
    task = rec["approvals"][-1]
    # Reject until the quorum cannot be reached any more: eligible - needed + 1 rejections. Everyone
    # the engine found eligible may decide (tokens are issued on demand).
    eligible, needed = task["eligible"], task["needed"]
    deciders = eligible[: len(eligible) - needed + 1]
    for i, user in enumerate(deciders):
        out = await api.decided(user, task["id"], "reject")
        assert out["state"] == ("rejected" if i == len(deciders) - 1 else "pending")
    rec = await api.record("cm", chg)
    assert rec["state"] == "rejected" and rec["final"] is True and rec["state_category"] == "closed"
    assert rec["approvals"][-1]["state"] == "rejected"
    r = await api.fire("ian", chg, "start")
    assert r.status_code == 409

    history = await api.history("cm", chg)
    assert moves(history)[-1] == ("reject", "cab_review", "rejected", "system:approval:cab_approval")
    assert actions(history).count("approval_decision") == len(deciders)
    assert "approval_rejected" in actions(history)


async def test_emergency_change_via_ecab_with_mandatory_review(api: LibraryApi) -> None:
    await api.ensure("change")
    rec = await api.started("cm", "change", "Patch the exploited VPN gateway", change_type="emergency")
    chg = rec["id"]
    minimal = {
        k: PLANS[k]
        for k in (
            "risk",
            "affected_cis",
            "implementation_plan",
            "backout_plan",
            "implementer",
            "planned_start",
            "planned_end",
        )
    }
    # Straight from new to the emergency CAB (the assessment is still recorded in the required fields).
    rec = await api.fired("cm", chg, "submit", **minimal)
    assert rec["state"] == "ecab_review"
    task = rec["approvals"][-1]
    assert task["step"] == "ecab_approval" and task["eligible"] == ["eve"] and task["needed"] == 1
    assert task["excluded"] == {}  # the requester and implementer are not on the ECAB here
    r = await api.decide("carol", task["id"])
    # carol is neither an approver of this step nor a participant of the change: she learns nothing
    # of it, not even that the approval exists (issue 15: no record or step named to outsiders).
    assert r.status_code == 404 and r.json()["type"] == "urn:itilflow:problem:notfound"
    out = await api.decided("eve", task["id"])
    assert out["state"] == "approved" and out["record"]["state"] == "scheduled"

    await api.fired("ian", chg, "start")
    # The post-implementation review is mandatory: nothing closes an emergency change before it.
    r = await api.fire("cm", chg, "close", review_notes="skip")
    assert r.status_code == 409 and "only from: Post-implementation review" in r.json()["detail"]
    r = await api.fire("ian", chg, "back_out")
    assert r.status_code == 422 and error_paths(r) == {"comment"}
    rec = await api.fired("ian", chg, "back_out", comment="Gateway did not come back up")
    assert rec["state"] == "review" and rec["fields"]["outcome"] == "backed_out"
    rec = await api.fired("cm", chg, "close", review_notes="Vendor patch needs a firmware upgrade first")
    assert rec["state"] == "backed_out" and rec["final"] is True
    assert [t for t, *_ in moves(await api.history("cm", chg))] == [
        "submit",
        "approve",
        "start",
        "back_out",
        "close",
    ]


async def test_major_and_minor_changes_reach_their_approvers(api: LibraryApi) -> None:
    # Major: the CAB (quorum), then IT management, as two levels of one approval.
    chg = await assessed(api, "alice", "Move the data centre network core", change_type="major")
    rec = await api.fired("cm", chg, "submit", **PLANS)
    assert rec["state"] == "major_review"
    cab = rec["approvals"][-1]
    assert cab["step"] == "major_approval" and cab["level_name"] == "cab" and cab["needed"] == 2
    await api.decided("carol", cab["id"])
    out = await api.decided("erin", cab["id"])
    assert out["state"] == "approved" and out["record"]["state"] == "major_review"
    management = await api.pending_task("cm", chg, "major_approval")
    assert management["level_name"] == "management" and management["eligible"] == ["boss"]
    out = await api.decided("boss", management["id"])
    assert out["record"]["state"] == "scheduled"

    # Minor: the change manager alone.
    chg = await assessed(api, "alice", "Rotate the relay TLS certificate", change_type="minor")
    rec = await api.fired(
        "cm", chg, "submit", **{k: v for k, v in PLANS.items() if k not in ("business_impact", "test_plan")}
    )
    assert rec["state"] == "manager_review"
    task = rec["approvals"][-1]
    assert task["step"] == "manager_approval" and task["eligible"] == ["cm"]
    r = await api.decide("carol", task["id"])
    # carol is neither an approver of this step nor a participant of the change: she learns nothing
    # of it, not even that the approval exists (issue 15: no record or step named to outsiders).
    assert r.status_code == 404 and r.json()["type"] == "urn:itilflow:problem:notfound"
    out = await api.decided("cm", task["id"])
    assert out["record"]["state"] == "scheduled"


async def test_submit_offers_the_variant_that_fires_with_its_fields(api: LibraryApi) -> None:
    """Issue 14: a normal change in assessment was offered the standard variant's field list, and
    submitting exactly those fields failed. Now the offer is the variant that fires, and its fields work."""
    chg = await assessed(api, "ivan", "Offer the right submit")
    offer = next(
        t for t in (await api.record("cm", chg))["available_transitions"] if t["trigger"] == "submit"
    )
    assert offer["to"] == "cab_review"
    names = [f["name"] for f in offer["required_fields"]]
    assert "standard_template" not in names and "test_plan" in names
    assert all(f["editable"] for f in offer["required_fields"])  # the change manager may set them all
    # The requester may submit too, but may not name the implementer: the offer says so.
    as_ivan = next(
        t for t in (await api.record("ivan", chg))["available_transitions"] if t["trigger"] == "submit"
    )
    assert {f["name"]: f["editable"] for f in as_ivan["required_fields"]}["implementer"] is False
    rec = await api.fired("cm", chg, "submit", **{n: PLANS[n] for n in names})
    assert rec["state"] == "cab_review"


async def test_field_rights_and_protected_fields_hold_through_the_api(api: LibraryApi) -> None:
    chg = await assessed(api, "ivan", "Try every way around the CAB")
    # The requester names himself implementer, by an edit and with the transition: the rule refuses.
    r = await api.patch("ivan", f"/api/v1/processes/{chg}", {"fields": {"implementer": "ivan"}})
    assert r.status_code == 403 and "the change manager names the implementer" in r.json()["detail"]
    assert error_paths(r) == {"fields.implementer"}
    r = await api.fire("ivan", chg, "submit", **{**PLANS, "implementer": "ivan"})
    assert r.status_code == 403 and "the change manager names the implementer" in r.json()["detail"]
    # ... nor turns his normal change into a standard one under assessment.
    r = await api.patch("ivan", f"/api/v1/processes/{chg}", {"fields": {"change_type": "standard"}})
    assert r.status_code == 403 and "classifies" in r.json()["detail"]
    # ... nor hands the change to someone else to become an approver of it.
    r = await api.patch("ivan", f"/api/v1/processes/{chg}", {"fields": {"requester": "alice"}})
    assert r.status_code == 403 and "separation of duties" in r.json()["detail"]
    rec = await api.record("ivan", chg)
    assert rec["requester"] == "ivan" and "implementer" not in rec["fields"]
    assert rec["fields"]["change_type"] == "normal"
    assert not {"implementer", "change_type", "requester"} & set(rec["editable_fields"])
    assert {"implementer", "change_type"} <= set((await api.record("cm", chg))["editable_fields"])

    rec = await api.fired("cm", chg, "submit", **PLANS)
    assert rec["state"] == "cab_review"
    # ian, named implementer, may not clear the field to slip out of the exclusion (even if he were
    # given the change manager's role, protection comes first).
    r = await api.patch("ian", f"/api/v1/processes/{chg}", {"fields": {"implementer": None}})
    assert r.status_code == 403 and r.json()["detail"].startswith("separation of duties: ian may not change")
    assert (await api.record("cm", chg))["fields"]["implementer"] == "ian"
    history = await api.history("cm", chg)
    assert not [h for h in history if h["action"] == "fields_changed"]  # nothing was written


async def test_an_admin_grants_change_manager_and_that_person_closes_a_change(
    api: LibraryApi, db_engine: Engine
) -> None:
    """Issue 14's "done when": without the role a person is refused; an admin grants `change_manager`
    through the API (the role the published change process declares), and the same person then takes
    a change from assessment to closure."""
    ensure_users(db_engine, [("nadia", ["agent"], []), ("root", ["admin"], [])])
    await api.ensure("change")
    chg = (await api.started("ivan", "change", "Rotate the relay certificates", reason="Expiry"))["id"]
    r = await api.fire("nadia", chg, "assess", assignee="nadia")
    assert r.status_code == 403 and "nadia may not" in r.json()["detail"]

    r = await api.http.put("/api/v1/admin/users/nadia/roles/change_manager", headers=api.headers("root"))
    assert r.status_code == 200 and "change_manager" in r.json()["roles"], r.text

    await api.fired("nadia", chg, "assess", assignee="nadia")
    rec = await api.fired("nadia", chg, "submit", **PLANS)
    task = rec["approvals"][-1]
    await api.decided("carol", task["id"])
    assert (await api.decided("dave", task["id"]))["record"]["state"] == "scheduled"
    await api.fired("ian", chg, "start")
    await api.fired("ian", chg, "implemented", implementation_notes="Certificates rotated")
    await api.fired("nadia", chg, "confirm_success")
    await api.set_fields("nadia", chg, cmdb_updated=True)
    rec = await api.fired("nadia", chg, "close", review_notes="Went to plan")
    assert rec["state"] == "completed" and rec["final"] is True
    closing = [h for h in await api.history("nadia", chg) if h["action"] == "transition"][-1]
    assert (closing["actor"], closing["details"]["trigger"]) == ("nadia", "close")
