"""`available` offers, of a trigger's guarded variants, the one that would fire for this record and this
caller, with that variant's own fields: reproduced on the shipped change definition, where a normal
change in assessment used to be offered the standard variant's fields (and submitting them failed)."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.loader import load_file, pin
from tests.paths import LIBRARY
from tests.unit.engine.support import T0
from workflows.contracts import Actor, AvailableTransition, FireTransitionInput, StartProcessInput
from workflows.engine import ProcessEngine

ALICE = Actor(username="alice", roles=["requester"])
CM = Actor(username="cm", roles=["agent", "change_manager"])

# What each variant asks for, by change type (change.yaml's `submit` transitions).
ASKED = {
    "standard": ["standard_template", "risk", "affected_cis", "implementation_plan", "backout_plan"],
    "minor": ["risk", "risk_assessment", "affected_cis", "implementation_plan", "backout_plan"],
    "normal": ["risk", "risk_assessment", "business_impact", "affected_cis", "implementation_plan"],
}
VALUES: dict[str, Any] = {
    "standard_template": "STD-012",
    "risk": "low",
    "risk_assessment": "small",
    "business_impact": "none",
    "affected_cis": ["mail-relay-01"],
    "implementation_plan": "upgrade",
    "backout_plan": "reinstall",
    "test_plan": "send mail",
    "implementer": "bob",
    # More than 10 working days after T0: the notice a major change needs (change.yaml).
    "planned_start": "2026-04-07T14:00:00+08:00",
    "planned_end": "2026-04-07T16:00:00+08:00",
}


def assessed(change_type: str) -> ProcessEngine:
    result = load_file(LIBRARY / "change.yaml")
    assert result.definition is not None
    inp = StartProcessInput(
        record_id="chg1",
        number="CHG0000001",
        definition=pin(result.definition, 1),
        actor=ALICE,
        title="Upgrade the mail relays",
        fields={"change_type": change_type},
    )
    engine, _ = ProcessEngine.create(inp, T0)
    engine.fire(FireTransitionInput(actor=CM, trigger="assess", fields={"assignee": "cm"}), T0)
    assert engine.record.state == "assessment"
    return engine


def submit(engine: ProcessEngine, actor: Actor) -> AvailableTransition:
    return next(t for t in engine.available(actor) if t.trigger == "submit")


@pytest.mark.parametrize(
    ("change_type", "target"),
    [
        ("standard", "scheduled"),
        ("minor", "manager_review"),
        ("normal", "cab_review"),
        ("major", "major_review"),
    ],
)
def test_submit_offers_the_variant_of_the_change_type_with_its_fields(change_type: str, target: str) -> None:
    engine = assessed(change_type)
    offered = submit(engine, CM)
    assert offered.to == target
    names = [f.name for f in offered.required_fields]
    if change_type in ASKED:
        assert names[: len(ASKED[change_type])] == ASKED[change_type]
    assert ("standard_template" in names) == (change_type == "standard")
    # Submitting exactly what was offered goes where the offer said.
    values = {name: VALUES[name] for name in names}
    engine.fire(FireTransitionInput(actor=CM, trigger="submit", fields=values), T0)
    assert engine.record.state == target


def test_a_normal_change_is_not_offered_the_standard_variant() -> None:
    """The bug: the standard variant's guard reads planned_start/planned_end, which the caller is asked
    for, so it was offered although change_type (which nobody is asked for) already rules it out."""
    engine = assessed("normal")
    offered = submit(engine, CM)
    assert offered.to == "cab_review" and offered.label == {"zh": "提交变更委员会审批", "en": "Submit to CAB"}
    assert "test_plan" in [f.name for f in offered.required_fields]


def test_a_variant_whose_guard_fails_on_set_fields_is_skipped_for_the_next() -> None:
    engine = assessed("normal")
    engine.record.fields.update(planned_start=VALUES["planned_end"], planned_end=VALUES["planned_start"])
    # The window is known and wrong: no submit variant can fire, so none is offered.
    assert all(t.trigger != "submit" for t in engine.available(CM))
