"""definitions/library/handover.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

from typing import Any

from tests.library.conftest import LibraryApi, error_paths, moves

CRITERIA: dict[str, Any] = {
    "built_and_live": True,
    "business_acceptance_passed": True,
    "operations_acceptance_passed": True,
    "preproduction_env": True,
    "ha_deployment_app_db": True,
}
DELIVERABLES: dict[str, Any] = {
    "requirements_docs_accepted": True,
    "functional_specs_accepted": True,
    "om_technical_docs_accepted": True,
    "completion_docs_accepted": True,
    "operator_training_done": True,
}


async def at_admission(api: LibraryApi) -> str:
    """dan (delivery PM) starts the handover of the CRM to olga (operations); both agree the plan."""
    await api.ensure("handover")
    parties = {
        "contract": "HT-2026-001",
        "system_name": "CRM",
        "delivery_manager": "dan",
        "receiving_manager": "olga",
        "receiving_group": "operations_receiving",
    }
    r = await api.start("alice", "handover", "CRM handover", **parties)
    assert r.status_code == 403 and "may start" in r.json()["detail"]
    rec = await api.started("dan", "handover", "CRM handover", **parties)
    hov = rec["id"]
    assert rec["number"].startswith("HOV") and rec["state"] == "early_involvement"
    assert rec["fields"]["responsible_side"] == "delivery" and rec["fields"]["phase"] == 1
    await api.fired("dan", hov, "invite_receiving_side")

    date = "2026-09-30T00:00:00+08:00"
    r = await api.fire("dan", hov, "start_handover", planned_handover_date=date)
    assert r.status_code == 409 and "system testing" in r.json()["detail"]
    await api.set_fields("dan", hov, system_testing_started=True, notice_at_least_3_months=True)
    rec = await api.fired("dan", hov, "start_handover", planned_handover_date=date)
    assert rec["state"] == "planning"
    rec = await api.fired(
        "dan",
        hov,
        "submit_plan",
        handover_plan="Scope: CRM; risks and fallbacks; responsibilities; acceptance standards; dates",
        stakeholders=["CRM project team", "Operations", "DBA"],
        phase_scope="Whole system",
    )
    assert rec["state"] == "plan_approval"
    # The plan is agreed by both sides (policy all).
    task = rec["approvals"][-1]
    assert (
        task["step"] == "plan_approval"
        and sorted(task["eligible"]) == ["dan", "olga"]
        and task["needed"] == 2
    )
    out = await api.decided("dan", task["id"])
    assert out["state"] == "pending" and out["record"]["state"] == "plan_approval"
    out = await api.decided("olga", task["id"])
    assert out["state"] == "approved" and out["record"]["state"] == "admission"
    return str(hov)


async def test_handover_admission_criterion_failed(api: LibraryApi) -> None:
    hov = await at_admission(api)
    await api.set_fields("olga", hov, **{**CRITERIA, "operations_acceptance_passed": False})
    r = await api.fire("olga", hov, "admit")
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert "admission criteria not met" in detail and "operations acceptance" in detail
    rec = await api.record("olga", hov)
    assert rec["state"] == "admission"
    r = await api.fire("dan", hov, "admit")
    assert r.status_code == 403  # admission is checked by the receiving side

    # Operations acceptance passes, but there is no pre-production environment and no written exception.
    await api.set_fields("olga", hov, operations_acceptance_passed=True, preproduction_env=False)
    r = await api.fire("olga", hov, "admit")
    assert r.status_code == 409 and "pre-production environment" in r.json()["detail"]
    # A subcontractor hands over to the delivery side first.
    await api.set_fields(
        "olga",
        hov,
        preproduction_exception="Low-importance system; approved by the CIO",
        has_subcontractor=True,
    )
    r = await api.fire("olga", hov, "admit")
    assert r.status_code == 409 and "subcontractor" in r.json()["detail"]
    await api.set_fields("dan", hov, subcontractor_handover_done=True)
    rec = await api.fired("olga", hov, "admit")
    assert rec["state"] == "knowledge_transfer"

    history = await api.history("olga", hov)
    assert [t for t, *_ in moves(history)][-2:] == ["plan_agreed", "admit"]


async def test_handover_happy_path_moves_duty_to_the_receiving_side(api: LibraryApi) -> None:
    hov = await at_admission(api)
    await api.set_fields("olga", hov, **CRITERIA)
    rec = await api.fired("olga", hov, "admit")
    assert rec["state"] == "knowledge_transfer"

    # Every knowledge-transfer deliverable accepted one by one, operators trained.
    await api.set_fields("olga", hov, **{**DELIVERABLES, "completion_docs_accepted": False})
    r = await api.fire("olga", hov, "accept_deliverables")
    assert r.status_code == 409 and "completion documents" in r.json()["detail"]
    await api.set_fields("olga", hov, completion_docs_accepted=True)
    rec = await api.fired("olga", hov, "accept_deliverables")
    assert rec["state"] == "asset_check"

    r = await api.fire("olga", hov, "assets_checked", asset_list="2 app servers, 2 database servers")
    assert r.status_code == 409 and "asset register" in r.json()["detail"]
    await api.set_fields("olga", hov, assets_verified=True)
    r = await api.fire("olga", hov, "assets_checked")
    assert r.status_code == 422 and error_paths(r) == {"fields.asset_list"}
    rec = await api.fired("olga", hov, "assets_checked", asset_list="2 app servers, 2 database servers")
    assert rec["state"] == "signoff"

    # Sign-off: the delivery side first, then the receiving side takes over operations duty.
    task = rec["approvals"][-1]
    assert task["step"] == "signoff" and task["level_name"] == "delivery" and task["eligible"] == ["dan"]
    r = await api.decide("olga", task["id"])
    assert r.status_code == 403 and "not an approver" in r.json()["detail"]
    out = await api.decided("dan", task["id"])
    assert out["state"] == "approved" and out["record"]["state"] == "signoff"
    assert out["record"]["fields"]["responsible_side"] == "delivery"  # not signed by operations yet
    receiving = await api.pending_task("olga", hov, "signoff")
    assert receiving["level_name"] == "receiving" and receiving["eligible"] == ["olga"]
    out = await api.decided("olga", receiving["id"])
    assert out["state"] == "approved"
    rec = await api.record("olga", hov)
    assert rec["state"] == "handed_over" and rec["state_category"] == "resolved"
    assert rec["fields"]["responsible_side"] == "receiving" and rec["fields"]["handed_over_at"]

    # The archives go to the receiving side before the record closes.
    r = await api.fire("olga", hov, "close")
    assert r.status_code == 409 and "archives" in r.json()["detail"]
    await api.set_fields("dan", hov, archives_transferred=True)
    rec = await api.fired("olga", hov, "close")
    assert rec["state"] == "closed" and rec["final"] is True

    history = await api.history("olga", hov)
    assert [t for t, *_ in moves(history)] == [
        "invite_receiving_side",
        "start_handover",
        "submit_plan",
        "plan_agreed",
        "admit",
        "accept_deliverables",
        "assets_checked",
        "handed_over",
        "close",
    ]
    duty = next(
        h for h in history if h["action"] == "fields_set" and "responsible_side" in h["details"]["fields"]
    )
    assert duty["details"]["fields"]["responsible_side"] == "receiving"
    signers = [(h["actor"], h["details"]["level"]) for h in history if h["action"] == "approval_decision"]
    assert signers == [
        ("dan", "both_sides"),
        ("olga", "both_sides"),
        ("dan", "delivery"),
        ("olga", "receiving"),
    ]
