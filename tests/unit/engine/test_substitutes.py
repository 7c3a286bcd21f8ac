"""Deciding as a substitute on the pure engine: who may stand in for whom, separation of duties for
both people, one decision per person, and the delegation the workflow must have found."""

from __future__ import annotations

import pytest

from tests.unit.engine.support import BOB, CAB, CAROL, DAVE, ERIN, answer_resolves
from tests.unit.engine.test_approvals import S1, submitted
from workflows.contracts import Actor, DecideApprovalInput
from workflows.engine import ProcessEngine, Refusal

FRANK = Actor(username="frank", roles=["approver"])


def claim(actor: Actor, principal: str, decision: str = "approve") -> DecideApprovalInput:
    return DecideApprovalInput(
        actor=actor,
        approval_id="rec1.a1",
        decision=decision,
        on_behalf_of=principal,  # type: ignore[arg-type]
    )


def pending(**fields: object) -> ProcessEngine:
    engine, out = submitted(**fields)
    answer_resolves(engine, out, CAB, S1)
    return engine


def refusal(engine: ProcessEngine, inp: DecideApprovalInput) -> Refusal:
    before = engine.record.model_copy(deep=True)
    with pytest.raises(Refusal) as info:
        engine.check_decide(inp)
    with pytest.raises(Refusal):
        engine.decide(inp, S1, delegation=7)
    assert engine.record == before
    return info.value


def test_a_substitute_decides_for_an_approver_and_both_are_recorded() -> None:
    engine = pending()
    out = engine.decide(claim(FRANK, "carol"), S1, delegation=7)
    [decision] = engine.record.approvals[0].decisions
    assert (decision.by, decision.substitute, decision.delegation) == ("carol", "frank", 7)
    assert "frank" not in engine.record.approvals[0].eligible  # a substitute never joins the approvers
    [event] = [e for e in out.events if e.action == "approval_decision"]
    assert event.actor == "frank"
    assert event.details["on_behalf_of"] == "carol" and event.details["delegation"] == 7
    # carol's voice is cast: neither she nor another substitute decides for her again.
    assert refusal(
        engine, DecideApprovalInput(actor=CAROL, approval_id="rec1.a1", decision="approve")
    ).kind == ("AlreadyDecided")
    assert (
        refusal(engine, claim(BOB, "carol")).message
        == "carol has already decided approval “cab” of TST0000001"
    )
    # The quorum of two still needs another person.
    assert engine.record.approvals[0].state == "pending"


def test_without_a_delegation_found_the_claim_is_refused() -> None:
    engine = pending()
    before = engine.record.model_copy(deep=True)
    with pytest.raises(Refusal) as info:
        engine.decide(claim(FRANK, "carol"), S1, delegation=None)
    assert info.value.kind == "NotAllowed"
    assert (
        info.value.message == "delegation: carol has no delegation to frank in force now (rule: delegation)"
    )
    assert engine.record == before


def test_only_an_approver_of_the_task_can_be_stood_in_for() -> None:
    engine = pending()
    message = refusal(engine, claim(FRANK, "boss")).message
    assert (
        message
        == "delegation: boss is not an approver of “cab” (board) on TST0000001, so nobody can decide it for them"
    )
    assert refusal(engine, claim(CAROL, "carol")).message == (
        "delegation: carol cannot decide as their own substitute"
    )


def test_separation_of_duties_binds_the_substitute_and_the_approver() -> None:
    engine = pending(builder="dave")
    alice = Actor(username="alice", roles=["requester"])
    found = refusal(engine, claim(alice, "carol"))
    assert (found.kind, found.message) == (
        "SeparationOfDuties",
        "separation of duties: alice is the requester of TST0000001 and may not decide this approval "
        "(rule: exclude requester), not even as the substitute of carol",
    )
    # dave was excluded when the level opened (builder): nobody decides for him either.
    assert refusal(engine, claim(FRANK, "dave")).kind == "NotAllowed"  # not an eligible approver
    engine.record.fields["builder"] = "erin"  # exclusions are read at decision time too
    found = refusal(engine, claim(FRANK, "erin"))
    assert found.kind == "SeparationOfDuties" and "erin is the builder" in found.message


def test_one_person_decides_an_approval_once() -> None:
    engine = pending()
    engine.decide(DecideApprovalInput(actor=ERIN, approval_id="rec1.a1", decision="approve"), S1)
    found = refusal(engine, claim(ERIN, "carol"))
    assert (found.kind, found.message) == (
        "AlreadyDecided",
        "erin has already decided approval “cab” of TST0000001; one person decides an approval once "
        "(rule: one decision per person, substitutes included)",
    )
    engine = pending()
    engine.decide(claim(ERIN, "carol"), S1, delegation=1)
    assert refusal(
        engine, DecideApprovalInput(actor=ERIN, approval_id="rec1.a1", decision="approve")
    ).kind == ("AlreadyDecided")
    assert refusal(engine, claim(ERIN, "dave")).kind == "AlreadyDecided"
    # dave's own decision completes the quorum: two people, two voices.
    engine.decide(DecideApprovalInput(actor=DAVE, approval_id="rec1.a1", decision="approve"), S1)
    assert engine.record.approvals[0].state == "approved"
