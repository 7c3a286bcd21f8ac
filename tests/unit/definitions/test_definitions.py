"""The definition language: schema errors and semantic errors, each with its path; CLI; schema; diagrams."""

from __future__ import annotations

import gc
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from definitions.compiler import SHARED_MACHINES, MachineModel, build_machine, fire, machine_for
from definitions.diagram import to_mermaid
from definitions.loader import from_data, library_files, load_file, load_text
from definitions.schema import json_schema
from tests.paths import FIXTURES
from tests.paths import ROOT as PROJECT_ROOT

ROOT = PROJECT_ROOT
MINI = FIXTURES / "mini.yaml"
EVERY_DEFINITION = sorted(
    {
        *library_files(),
        *FIXTURES.glob("*.yaml"),
        *ROOT.joinpath("bench", "fixtures").glob("*.yaml"),
    }
)


def mini() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MINI.read_text())
    return data


def issues_of(data: dict[str, Any]) -> list[str]:
    return [str(i) for i in from_data(data).issues]


def test_mini_is_valid() -> None:
    assert issues_of(mini()) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["transitions"][3].update(to="resovled"),
            "transitions[3].to: unknown state 'resovled' (did you mean 'resolved'?)",
        ),
        (
            lambda d: d["transitions"][0].update({"from": ["nowhere"]}),
            "transitions[0].from[0]: unknown state 'nowhere'",
        ),
        (
            lambda d: d["transitions"][0]["allowed"].update(roles=["agnet"]),
            "transitions[0].allowed.roles[0]: unknown role 'agnet' (did you mean 'agent'?)",
        ),
        (
            lambda d: d["transitions"][0].update(required_fields=["asignee"]),
            "transitions[0].required_fields[0]: unknown field 'asignee' (did you mean 'assignee'?)",
        ),
        (
            lambda d: d["transitions"][0]["allowed"].update(relations=["owner"]),
            "transitions[0].allowed.relations[0]: unknown relation 'owner'",
        ),
        (
            lambda d: d["transitions"][3].update(guard={"field": "risk", "op": "gt", "value_field": "nope"}),
            "transitions[3].guard: unknown field 'nope'",
        ),
        (
            lambda d: d["transitions"][3].update(guard={"field": "builder", "op": "gt", "value": 1}),
            "transitions[3].guard.op: 'gt' cannot compare user field 'builder'",
        ),
        (
            lambda d: d["transitions"][0]["effects"][0]["notify"].update(template="nope"),
            "transitions[0].effects[0].notify.template: unknown notification template 'nope'",
        ),
        (
            lambda d: d["transitions"].append(
                {"trigger": "accept", "from": "new", "to": "waiting", "allowed": {"roles": ["agent"]}}
            ),
            "transitions[10]: ambiguous trigger 'accept' from state 'new'",
        ),
        (
            lambda d: d["transitions"].append(
                {"trigger": "revive", "from": "closed", "to": "new", "allowed": {"roles": ["agent"]}}
            ),
            "transitions[10].from[0]: 'closed' is a final state: nothing can leave it",
        ),
        (
            lambda d: d["states"].append({"name": "limbo", "category": "open"}),
            "states[7]: state 'limbo' is unreachable from the initial state 'new'",
        ),
        (
            lambda d: (
                d["states"].append({"name": "stuck", "category": "open"}),
                d["transitions"].append(
                    {"trigger": "jam", "from": "new", "to": "stuck", "allowed": {"roles": ["agent"]}}
                ),
            ),
            "states[7]: state 'stuck' is not final and has no transition out of it",
        ),
        (
            lambda d: d["approvals"][0]["levels"][0].update(approvers={"users": ["a", "b"]}, quorum=3),
            "approvals[0].levels[0].quorum: impossible quorum: 3 approvals needed but only 2 approver(s) named",
        ),
        (
            lambda d: d["approvals"][0]["levels"][0].update(policy="percentage", quorum=None, percentage=150),
            "approvals[0].levels[0].percentage: policy percentage needs a percentage in (0, 100]",
        ),
        (
            lambda d: d["approvals"][0].update(on_approved="aprove"),
            "approvals[0].on_approved: unknown trigger 'aprove' (did you mean 'approve'?)",
        ),
        (
            lambda d: d["approvals"][0].update(on_rejected="resolve"),
            "approvals[0].on_rejected: trigger 'resolve' cannot fire from state 'approval'",
        ),
        (
            lambda d: d["approvals"][0]["separation_of_duties"].update(exclude=["field:plan"]),
            "approvals[0].separation_of_duties.exclude[0]: field 'plan' is a text field; expected a list or user field",
        ),
        (
            lambda d: d["slas"][0].update(pauses_in=["waitting"]),
            "slas[0].pauses_in[0]: unknown state 'waitting' (did you mean 'waiting'?)",
        ),
        (
            lambda d: d["slas"][0].update(pauses_in=["waiting", "new"]),
            "slas[0].pauses_in: state 'new' is in both runs_in and pauses_in",
        ),
        (lambda d: d["slas"][0].update(calendar="office"), "slas[0].calendar: unknown calendar 'office'"),
        (
            lambda d: d["slas"][0]["targets"].pop("3"),
            "slas[0].targets: no target for priority 3 (add them or a default_target)",
        ),
        (
            lambda d: d["slas"][0]["thresholds"][0]["actions"].append({"fire": "nope"}),
            "slas[0].thresholds[0].actions[1].fire: unknown trigger 'nope'",
        ),
        (
            lambda d: d["priority_matrix"]["matrix"]["2"].pop("2"),
            "priority_matrix.matrix: no priority for impact 2, urgency 2",
        ),
        (
            lambda d: d["priority_matrix"]["matrix"]["1"].update({"1": "9"}),
            "priority_matrix.matrix.1.1: '9' is not a value of 'priority'",
        ),
        (
            lambda d: d["notifications"]["assigned"]["body"].update(en="{{titel}}"),
            "notifications.assigned.body.en: unknown placeholder '{{titel}}'",
        ),
        (
            lambda d: d["fields"][0].update(values=[]),
            "fields[0].values: an enum field needs a non-empty list of values",
        ),
        (
            lambda d: d["transitions"][9].update(after="PT0S"),
            "transitions[9].after: a timed transition needs a positive duration",
        ),
    ],
)
def test_semantic_errors_name_path_and_rule(mutate: Any, expected: str) -> None:
    data = mini()
    mutate(data)
    found = issues_of(data)
    assert any(issue.startswith(expected) for issue in found), found


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(number_prefix="inc"), "number_prefix: String should match pattern"),
        (lambda d: d["states"][0].update(category="pending"), "states[0].category: Input should be"),
        (
            lambda d: d["transitions"][0].update(
                effects=[{"set": {"x": 1}, "notify": {"template": "a", "to": ["assignee"]}}]
            ),
            "transitions[0].effects[0]: an effect takes exactly one of",
        ),
        (
            lambda d: d["transitions"][0].update(guard={"field": "risk"}),
            "transitions[0].guard: a comparison needs both",
        ),
        (lambda d: d["calendars"].update(office={"weekly": {"mon": ["18:00-09:00"]}}), "calendars.office"),
        (lambda d: d.update(colour="blue"), "colour: Extra inputs are not permitted"),
    ],
)
def test_schema_errors_name_the_path(mutate: Any, expected: str) -> None:
    data = mini()
    mutate(data)
    found = issues_of(data)
    assert any(issue.startswith(expected) for issue in found), found


def test_every_problem_is_reported_at_once() -> None:
    data = mini()
    data["transitions"][3]["to"] = "resovled"
    data["slas"][0]["calendar"] = "office"
    data["approvals"][0]["on_approved"] = "aprove"
    found = issues_of(data)
    assert {i.split(":")[0] for i in found} >= {
        "transitions[3].to",
        "slas[0].calendar",
        "approvals[0].on_approved",
    }


def test_yaml_problems() -> None:
    assert [str(i) for i in load_text("key: a\nkey: b\n").issues][0].startswith(
        "line 2, column 1: invalid YAML: "
    )
    assert "duplicate key 'key'" in str(load_text("key: a\nkey: b\n").issues[0]) or "duplicate" in str(
        load_text("key: a\nkey: b\n").issues[0].message
    )
    assert load_text("- a list\n").issues[0].message.startswith("a definition is a YAML mapping")


@pytest.mark.parametrize("path", EVERY_DEFINITION, ids=lambda p: p.name)
def test_every_definition_compiles_and_draws(path: Path) -> None:
    result = load_file(path)
    assert result.ok, [str(i) for i in result.issues]
    d = result.definition
    assert d is not None
    machine = build_machine(d)
    model = MachineModel(d.initial)
    unguarded = next((t for t in d.transitions if d.initial in d.sources(t) and t.guard is None), None)
    if unguarded is not None:
        assert fire(machine, model, unguarded.trigger, lambda: {}) and model.state == unguarded.to
    diagram = to_mermaid(d)
    assert diagram.startswith("stateDiagram-v2\n")
    for state in d.states:
        assert f" as {state.name}\n" in diagram
    assert to_mermaid(d, lang="zh", current=d.initial).count("class " + d.initial) == 2


def test_one_machine_serves_every_record_of_a_definition() -> None:
    """Records share their definition's machine: each model moves alone, guards read its own fields,
    and firing from several threads at once is safe."""
    d = load_file(MINI).definition
    assert d is not None
    machine = machine_for(d)
    assert machine_for(d) is machine
    assert machine_for(d.model_copy(deep=True)) is not machine  # another definition object

    low, high = {"risk": 2}, {"risk": 5}
    a, b = MachineModel("in_progress"), MachineModel("in_progress")
    assert not fire(machine, b, "submit", lambda: high) and b.state == "in_progress"
    assert fire(machine, a, "submit", lambda: low) and a.state == "approval"
    assert b.state == "in_progress"
    assert not fire(machine, a, "no_such_trigger", lambda: low) and a.state == "approval"

    def round_trip(i: int) -> str:
        model = MachineModel("in_progress")
        for _ in range(200):
            assert fire(machine, model, "submit", lambda: low if i % 2 else {"risk": 1})
            assert fire(machine, model, "approve", lambda: low)
        return model.state

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(round_trip, range(8))) == ["in_progress"] * 8


def test_a_shared_machine_goes_with_its_definition() -> None:
    d = load_file(MINI).definition
    assert d is not None
    machine_for(d)
    gc.collect()  # other tests' garbage first, so that only this definition goes below
    before = len(SHARED_MACHINES)
    del d
    gc.collect()
    assert len(SHARED_MACHINES) == before - 1


def test_json_schema_describes_the_language() -> None:
    schema = json_schema()
    assert schema["title"] == "itilflow process definition"
    assert {"key", "states", "transitions", "approvals", "slas"} <= set(schema["properties"])
    assert "from" in schema["$defs"]["TransitionDef"]["properties"]
    json.dumps(schema)
