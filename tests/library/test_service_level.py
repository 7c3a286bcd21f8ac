"""definitions/library/service_level.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

from typing import Any

from tests.library.conftest import LibraryApi, error_paths, moves

TERM = {"valid_from": "2026-03-01T00:00:00+08:00", "valid_until": "2027-02-28T00:00:00+08:00"}
DRAFT: dict[str, Any] = {
    "customer_representative": "cust",
    "provider_signatory": "sly",
    "service_hours": "ERP 7x24; mail 08:00-17:00 on working days",
    "availability_target": "99.9%",
    "response_resolution_targets": "P1 15 min / 4 h; P2 30 min / 8 h",
    "reports": "Monthly SLA report to the CIO",
}


async def signed(api: LibraryApi, rec_id: str) -> dict[str, Any]:
    """Both parties sign (provider first, then the customer); returns the record as the signature left it."""
    task = await api.pending_task("sly", rec_id, "signature")
    assert task["level_name"] == "provider" and task["eligible"] == ["sly"]
    r = await api.decide("cust", task["id"])
    assert r.status_code == 403 and "not an approver" in r.json()["detail"]
    out = await api.decided("sly", task["id"])
    assert out["record"]["state"] == "signing"  # the customer has not signed yet
    task = await api.pending_task("sly", rec_id, "signature")
    assert task["level_name"] == "customer" and task["eligible"] == ["cust"]
    out = await api.decided("cust", task["id"])
    return dict(out["record"])


async def in_force(api: LibraryApi, key: str) -> str:
    r = await api.start("alice", key, "ACME O&M agreement", customer="ACME")
    assert r.status_code == 403  # requesters do not open agreements
    rec = await api.started("sly", key, "ACME O&M agreement", customer="ACME")
    slr = rec["id"]
    assert rec["number"].startswith("SLR") and rec["state"] == "requirement"
    await api.fired("sly", slr, "accept_requirement", service_requirement="24x7 O&M of the ERP and mail")
    await api.fired("sly", slr, "scope_agreed", services_in_scope=["ERP", "Mail"], project_manager="pm")
    await api.fired("sly", slr, "strategy_defined", strategy="Monthly reports, quarterly reviews")
    backwards = {"valid_from": TERM["valid_until"], "valid_until": TERM["valid_from"]}
    r = await api.fire("sly", slr, "submit_for_signature", **DRAFT, **backwards)
    assert r.status_code == 409 and "must end after it starts" in r.json()["detail"]
    r = await api.fire(
        "sly", slr, "submit_for_signature", **{k: v for k, v in DRAFT.items() if k != "reports"}, **TERM
    )
    assert r.status_code == 422 and error_paths(r) == {"fields.reports"}
    rec = await api.fired("sly", slr, "submit_for_signature", **DRAFT, **TERM)
    assert rec["state"] == "signing"
    record = await signed(api, slr)
    assert record["state"] == "in_force" and record["fields"]["review_round"] == "q1"
    return str(slr)


async def test_service_level_reviews_every_90_days_and_renews_yearly(api: LibraryApi) -> None:
    # Only the review timer changes (P90D -> 1 s); the four-round review loop is the shipped one.
    key = await api.publish_shortened("service_level", after="PT1S")
    slr = await in_force(api, key)
    for expected in ("q2", "q3", "q4"):
        await api.wait_for("sly", slr, "the periodic review", lambda r: r["state"] == "in_review")
        if expected == "q2":
            # The first review needs its record. (Later rounds inherit the previous round's notes:
            # review_notes is never cleared, so the definition cannot demand fresh ones.)
            r = await api.fire("sly", slr, "review_done")
            assert r.status_code == 422 and error_paths(r) == {"fields.review_notes"}
        rec = await api.fired("sly", slr, "review_done", review_notes=f"Round {expected}: targets met")
        assert rec["state"] == "in_force" and rec["fields"]["review_round"] == expected
        assert rec["fields"]["last_review_at"]
    # The fourth review of the year leads to the renewal instead.
    await api.wait_for("sly", slr, "the annual review", lambda r: r["state"] == "in_review")
    rec = await api.fired("sly", slr, "review_done", review_notes="Annual review with the customer")
    assert rec["state"] == "renewal"
    rec = await api.fired(
        "sly", slr, "renew", valid_from="2027-03-01T00:00:00+08:00", valid_until="2028-02-29T00:00:00+08:00"
    )
    assert rec["state"] == "signing"
    record = await signed(api, slr)
    assert record["state"] == "in_force" and record["fields"]["review_round"] == "q1"

    # Up to the renewal (the renewed agreement's own first review may already be due by now).
    trail = moves(await api.history("sly", slr))
    year = trail[: [m[0] for m in trail].index("renew")]
    timed = [m for m in year if m[0] == "review_due"]
    assert len(timed) == 4 and all(m[1:3] == ("in_force", "in_review") for m in timed)
    assert all(m[3].startswith("system:") for m in timed)
    assert [m[2] for m in year if m[0] == "review_done"] == ["in_force"] * 3 + ["renewal"]


async def test_service_level_change_goes_through_change_management(api: LibraryApi) -> None:
    await api.ensure("service_level", "change")
    slr = await in_force(api, "service_level")
    r = await api.fire("sly", slr, "request_change")
    assert r.status_code == 422 and error_paths(r) == {"fields.change_reason"}
    rec = await api.fired("sly", slr, "request_change", change_reason="Add the CRM to the scope")
    assert rec["state"] == "amending" and rec["state_category"] == "waiting"
    change = await api.record("cm", rec["fields"]["change"])
    assert change["definition"] == "change" and change["state"] == "new"
    assert change["fields"]["related_sla"] == slr and change["fields"]["sla_impact"] is True
    assert (
        change["fields"]["change_type"] == "normal"
        and change["fields"]["reason"] == "Add the CRM to the scope"
    )
    assert change["requester"] == "sly"

    rec = await api.fired("sly", slr, "change_applied", amendment_notes="CRM added at 99.5%")
    assert rec["state"] == "in_force" and "change_reason" not in rec["fields"]
    assert rec["fields"]["change"] == change["id"]
    assert [t for t, *_ in moves(await api.history("sly", slr))][-2:] == ["request_change", "change_applied"]
