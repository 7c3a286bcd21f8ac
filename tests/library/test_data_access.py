"""definitions/library/data_access.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

from typing import Any

from tests.library.conftest import LibraryApi, error_paths, moves

REQUEST: dict[str, Any] = {
    "data_set": "crm.customers",
    "classification": "confidential",
    "purpose": "Churn analysis for Q1",
    "data_owner": "owen",
}


async def submitted(api: LibraryApi, key: str) -> str:
    rec = await api.started("alice", key, "Customer table for churn analysis", **REQUEST)
    assert rec["number"].startswith("DAR") and rec["fields"]["access_type"] == "read"
    rec = await api.fired("alice", rec["id"], "submit")
    assert rec["state"] == "approval"
    return str(rec["id"])


async def test_data_access_approved_then_expiry_revokes_it(api: LibraryApi) -> None:
    # Only the access period changes (P7D -> 1 s, 7x24); the approval and the expiry are the shipped ones.
    key = await api.publish_shortened("data_access", after="PT1S")
    r = await api.start("alice", key, "No purpose", **{k: v for k, v in REQUEST.items() if k != "purpose"})
    assert r.status_code == 422 and error_paths(r) == {"fields.purpose"}
    dar = await submitted(api, key)

    # The data owner, then the security team; nobody approves their own access.
    task = await api.pending_task("alice", dar, "access_approval")
    assert task["level_name"] == "data_owner" and task["eligible"] == ["owen"]
    r = await api.decide("alice", task["id"])
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "separation of duties" in detail and "alice" in detail and "requester" in detail
    out = await api.decided("owen", task["id"])
    assert out["record"]["state"] == "approval"
    task = await api.pending_task("sec", dar, "access_approval")
    assert task["level_name"] == "security" and task["eligible"] == ["sec"]
    out = await api.decided("sec", task["id"])
    assert out["record"]["state"] == "granted" and out["record"]["fields"]["granted_at"]

    # The time limit: access ends by itself.
    rec = await api.wait_for("alice", dar, "expiry", lambda r: r["state"] == "ended")
    assert rec["fields"]["end_reason"] == "expired" and rec["fields"]["ended_at"]
    # The usage is audited by security before the record closes.
    r = await api.fire("alice", dar, "close", usage_review="fine")
    assert r.status_code == 403
    rec = await api.fired("sec", dar, "close", usage_review="Read-only queries, no export")
    assert rec["state"] == "closed" and rec["final"] is True

    trail = moves(await api.history("sec", dar))
    assert [(t, a.split(":")[0] if a.startswith("system:") else a) for t, _, _, a in trail] == [
        ("submit", "alice"),
        ("grant", "system"),
        ("expire", "system"),
        ("close", "sec"),
    ]


async def test_data_access_rejected_or_revoked(api: LibraryApi) -> None:
    await api.ensure("data_access")
    rejected = await submitted(api, "data_access")
    task = await api.pending_task("owen", rejected, "access_approval")
    out = await api.decided("owen", task["id"], "reject")
    assert out["state"] == "rejected" and out["record"]["state"] == "rejected"

    granted = await submitted(api, "data_access")
    for user in ("owen", "sec"):
        task = await api.pending_task(user, granted, "access_approval")
        await api.decided(user, task["id"])
    r = await api.fire("alice", granted, "revoke", comment="no longer needed")
    assert r.status_code == 403  # the requester finishes, the owner or security revokes
    r = await api.fire("owen", granted, "revoke")
    assert r.status_code == 422 and error_paths(r) == {"comment"}
    rec = await api.fired("owen", granted, "revoke", comment="Purpose fulfilled")
    assert rec["state"] == "ended" and rec["fields"]["end_reason"] == "revoked"
