"""definitions/library/incident.yaml end to end through the API, on a real worker and Temporal."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.library.conftest import LibraryApi, actions, error_paths, moves, notifications, sla, triggers


async def test_incident_lifecycle_waiting_reopen_and_confirmation(api: LibraryApi) -> None:
    await api.ensure("incident")
    rec = await api.started("alice", "incident", "Mail is down", impact="2", urgency="1")
    inc = rec["id"]
    # Priority comes from the impact x urgency matrix (2, 1) -> 2; new incidents go to the service desk.
    assert rec["number"].startswith("INC") and rec["state"] == "new" and rec["state_category"] == "new"
    assert rec["priority"] == "2" and rec["fields"]["priority"] == "2"
    assert rec["requester"] == "alice" and rec["assignment_group"] == "service_desk"
    assert rec["fields"]["support_level"] == "L1"
    assert sla(rec, "response")["state"] == "running" and sla(rec, "response")["target"] == "PT30M"
    assert sla(rec, "resolution")["target"] == "PT8H"

    r = await api.fire("alice", inc, "accept")
    assert r.status_code == 403 and "may not “" in r.json()["detail"]
    assert "accept" in triggers(await api.record("sam", inc))
    rec = await api.fired("sam", inc, "accept", assignee="sam")
    assert rec["state"] == "in_progress" and rec["assignee"] == "sam"
    assert sla(rec, "response")["state"] == "met"

    # Waiting on the requester pauses the resolution clock; the comment says what is needed.
    r = await api.fire("sam", inc, "await_user")
    assert r.status_code == 422 and error_paths(r) == {"comment"}
    rec = await api.fired("sam", inc, "await_user", comment="Which mailbox?")
    assert rec["state"] == "awaiting_user" and rec["state_category"] == "waiting"
    assert sla(rec, "resolution")["state"] == "paused"
    rec = await api.fired("alice", inc, "resume", comment="The shared one")
    assert rec["state"] == "in_progress" and sla(rec, "resolution")["state"] == "running"

    # Resolving records how (the `resolved` state requires it).
    r = await api.fire("sam", inc, "resolve", category="software")
    assert r.status_code == 422
    assert error_paths(r) == {"fields.resolution_code", "fields.resolution_notes"}
    resolution = {
        "category": "software",
        "resolution_code": "solved_permanently",
        "resolution_notes": "Relay up",
    }
    rec = await api.fired("sam", inc, "resolve", **resolution)
    assert rec["state"] == "resolved" and rec["fields"]["resolved_by"] == "sam"
    assert sla(rec, "resolution")["state"] == "met"

    # The requester does not accept the resolution: reopen (a reason is required) resumes the clock.
    r = await api.fire("alice", inc, "reopen")
    assert r.status_code == 422 and error_paths(r) == {"comment"}
    r = await api.fire("lee", inc, "reopen", comment="not mine")
    assert r.status_code == 403
    rec = await api.fired("alice", inc, "reopen", comment="Still cannot send")
    assert rec["state"] == "in_progress" and "resolved_by" not in rec["fields"]
    assert sla(rec, "resolution")["state"] == "running"

    await api.fired("sam", inc, "resolve", **resolution)
    r = await api.fire("sam", inc, "confirm")
    assert r.status_code == 403  # only the requester confirms (002 §8.4.2.1 h)
    rec = await api.fired("alice", inc, "confirm", satisfaction="5")
    assert rec["state"] == "closed" and rec["final"] is True
    assert rec["fields"]["closure"] == "confirmed" and rec["fields"]["closed_at"]

    # Closed is final: a recurrence is a new incident.
    r = await api.fire("alice", inc, "reopen", comment="again")
    assert r.status_code == 409 and "is closed" in r.json()["detail"]
    closed = await api.record("alice", inc)
    assert closed["state"] == "closed" and closed["available_transitions"] == []

    history = await api.history("alice", inc)
    assert history[0]["action"] == "created" and history[0]["actor"] == "alice"
    assert [(t, a) for t, _, _, a in moves(history)] == [
        ("accept", "sam"),
        ("await_user", "sam"),
        ("resume", "alice"),
        ("resolve", "sam"),
        ("reopen", "alice"),
        ("resolve", "sam"),
        ("confirm", "alice"),
    ]
    paused = [h for h in history if h["action"] == "sla_paused"]
    assert [h["details"]["sla"] for h in paused] == ["resolution"]
    assert any(h["comment"] == "Which mailbox?" for h in history)


async def test_incident_sla_warning_breach_and_escalation(api: LibraryApi, db_engine: Engine) -> None:
    # Only durations change (resolution 6 s for every priority, response 30 s, auto-close 1 s, 7x24
    # calendars); the thresholds and their actions are the shipped ones: 75 % warn, 100 % breach and
    # escalate, 150 % escalate again.
    key = await api.publish_shortened(
        "incident", targets={"response": "PT30S", "resolution": "PT6S"}, after="PT1S"
    )
    rec = await api.started("alice", key, "VPN drops every hour", impact="3", urgency="2")
    inc = rec["id"]
    assert rec["priority"] == "4" and sla(rec, "resolution")["target"] == "PT6S"
    rec = await api.fired("sam", inc, "accept", assignee="sam")
    assert rec["fields"]["support_level"] == "L1"

    # At 100 % the SLA escalates to second line: the L2 group gets it and the assignee is cleared.
    # (On a loaded machine the poll may already see the 150 % step; the history below checks the order.)
    rec = await api.wait_for("sam", inc, "support level L2", lambda r: r["fields"]["support_level"] != "L1")
    level = rec["fields"]["support_level"]
    assert (level, rec["assignment_group"]) in {("L2", "l2_support"), ("L3", "l3_support")}
    assert rec["assignee"] is None and "assignee" not in rec["fields"]
    assert sla(rec, "resolution")["state"] == "breached"
    if level == "L2":
        assert "resolve" in triggers(await api.record("lee", inc))  # the L2 team may now act on it

    # Still open at 150 %: third line.
    rec = await api.wait_for("sam", inc, "support level L3", lambda r: r["fields"]["support_level"] == "L3")
    assert rec["assignment_group"] == "l3_support" and rec["state"] == "in_progress"

    history = await api.history("sam", inc)
    sla_steps = [
        (h["action"], h["details"].get("at_percent"), h["details"].get("to"))
        for h in history
        if h["action"] in ("sla_threshold", "escalated")
        and h["details"].get("sla", "resolution") == "resolution"
    ]
    assert sla_steps == [
        ("sla_threshold", 75.0, None),
        ("sla_threshold", 100.0, None),
        ("escalated", None, "L2"),
        ("sla_threshold", 150.0, None),
        ("escalated", None, "L3"),
    ]
    escalations = [h for h in history if h["action"] == "escalated"]
    assert [(h["details"]["from"], h["details"]["assignment_group"]) for h in escalations] == [
        ("L1", "l2_support"),
        ("L2", "l3_support"),
    ]
    assert all(h["actor"].startswith("system:") for h in escalations)
    breach = next(
        h for h in history if h["action"] == "sla_threshold" and h["details"]["at_percent"] == 100.0
    )
    assert breach["details"]["breached"] is True

    # The warning goes to the assignee and group lead, the requester is told in advance, each new
    # line is told it has the incident.
    wanted = {
        ("sla_warning", "sam"),
        ("sla_may_miss", "alice"),
        ("sla_breach", "sam"),
        ("escalated", "lee"),
        ("escalated", "lin"),
    }
    assert wanted <= await notifications(db_engine, inc, wanted)

    # Third line resolves; without an answer from the requester it closes itself after the window.
    await api.fired(
        "lin",
        inc,
        "resolve",
        category="network",
        resolution_code="solved_permanently",
        resolution_notes="MTU",
    )
    rec = await api.wait_for("alice", inc, "auto-close", lambda r: r["state"] == "closed")
    assert rec["fields"]["closure"] == "auto_closed"
    last = moves(await api.history("alice", inc))[-1]
    assert last[:3] == ("auto_close", "resolved", "closed") and last[3].startswith("system:")


async def test_major_incident_raises_emergency_change_and_linked_problem(api: LibraryApi) -> None:
    await api.ensure("incident", "problem", "change")
    rec = await api.started(
        "alice", "incident", "Core banking down", impact="1", urgency="1", category="database"
    )
    inc = rec["id"]
    assert rec["priority"] == "1"
    await api.fired("sam", inc, "accept", assignee="sam")

    r = await api.fire("sam", inc, "declare_major", comment="All branches affected")
    assert r.status_code == 422 and error_paths(r) == {"fields.major_incident_manager"}
    rec = await api.fired(
        "sam", inc, "declare_major", comment="All branches affected", major_incident_manager="mim"
    )
    assert rec["fields"]["major_incident"] is True and rec["fields"]["major_declared_at"]
    r = await api.fire("sam", inc, "declare_major", comment="again", major_incident_manager="mim")
    assert r.status_code == 409 and "already a major incident" in r.json()["detail"]

    # Communication is the major incident manager's.
    r = await api.fire("sam", inc, "major_update", comment="Failover started")
    assert r.status_code == 403
    await api.fired("mim", inc, "major_update", comment="Failover started")

    # The major incident manager raises an emergency change, linked both ways.
    rec = await api.fired("mim", inc, "raise_emergency_change")
    change_id = rec["fields"]["emergency_change"]
    change = await api.record("cm", change_id)
    assert change["definition"] == "change" and change["state"] == "new"
    assert change["fields"]["change_type"] == "emergency" and change["fields"]["related_incident"] == inc
    assert change["requester"] == "mim" and rec["number"] in change["title"]
    r = await api.fire("mim", inc, "raise_emergency_change")
    assert r.status_code == 409 and "once" in r.json()["detail"]

    # Problem management gets a linked problem, which points back at the incident.
    rec = await api.fired("sam", inc, "raise_problem")
    problem_id = rec["fields"]["problem"]
    problem = await api.record("pam", problem_id)
    assert problem["definition"] == "problem" and problem["number"].startswith("PRB")
    assert problem["fields"]["origin_incident"] == inc and problem["requester"] == "sam"
    assert problem["fields"]["category"] == "database"
    assert problem["title"] == f"Problem from {rec['number']}: Core banking down"
    r = await api.fire("sam", inc, "raise_problem")
    assert r.status_code == 409 and "a problem is already linked" in r.json()["detail"]

    assert {(link["definition"], link["id"]) for link in rec["links"]} == {
        ("change", change_id),
        ("problem", problem_id),
    }
    history = await api.history("sam", inc)
    assert actions(history).count("linked_record_created") == 2
    created = (await api.history("pam", problem_id))[0]
    assert created["action"] == "created" and created["details"]["parent"] == inc
