"""The shipped library's field rights and protected fields, on the pure engine."""

from __future__ import annotations

import pytest

from tests.unit.definitions.test_library import ALICE, CM, PLANS, Sim, actor, change
from workflows.contracts import UpdateFieldsInput
from workflows.engine import Refusal

BOB = actor("bob", "agent")
RITA = actor("rita", "agent", "release_manager")


def edit_refused(sim: Sim, by: object, **fields: object) -> Refusal:
    with pytest.raises(Refusal) as info:
        sim.engine.check_update(UpdateFieldsInput(actor=by, fields=fields))  # type: ignore[arg-type]
    return info.value


def test_change_only_the_change_manager_names_the_implementer() -> None:
    sim = change()
    refused = sim.refused(ALICE, "submit", **{**PLANS, "implementer": "alice"})
    assert refused.kind == "NotAllowed" and "the change manager names the implementer" in refused.message
    refused = edit_refused(sim, ALICE, implementer="alice")
    assert refused.kind == "NotAllowed" and "Implementer" in refused.message
    sim.fire(CM, "submit", **PLANS)
    assert sim.state == "cab_review"


def test_change_a_requester_cannot_retype_their_change_under_assessment() -> None:
    sim = change()
    refused = edit_refused(sim, ALICE, change_type="standard")
    assert refused.kind == "NotAllowed" and "classifies" in refused.message
    refused = sim.refused(ALICE, "submit", change_type="standard", standard_template="STD-1", **PLANS)
    assert refused.kind == "NotAllowed" and sim.state == "assessment"


def test_change_the_implementer_cannot_step_out_of_the_exclusion() -> None:
    sim = change()
    sim.fire(CM, "submit", **{**PLANS, "implementer": "cm"})
    assert sim.state == "cab_review"
    refused = edit_refused(sim, CM, implementer="bob")
    assert refused.kind == "SeparationOfDuties" and "Implementer" in refused.message


def test_release_only_a_release_manager_corrects_the_builder() -> None:
    sim = Sim("release", RITA, title="Payroll 4.2")
    assert edit_refused(sim, BOB, builder="bob").kind == "NotAllowed"
    sim.engine.update_fields(UpdateFieldsInput(actor=RITA, fields={"builder": "rob"}), sim.now)
    assert sim.snap.fields["builder"] == "rob"
