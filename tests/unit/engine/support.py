"""What the engine's unit tests share: actors, a fixed clock, and records started on the pure engine.

No Temporal, no database: a record is a `ProcessEngine` over a small definition (a fixture file in
`tests/fixtures/` or a few lines of YAML in the test), and the workflow's side requests (approvers,
linked records) are answered by the test itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from definitions.loader import PinnedDefinition, from_data, pin
from tests.conftest import pinned_fixture
from workflows.contracts import Actor, FireTransitionInput, StartProcessInput
from workflows.engine import Outcome, ProcessEngine

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ALICE = Actor(username="alice", roles=["requester"])
BOB = Actor(username="bob", roles=["agent"], groups=["desk"])
CAROL = Actor(username="carol", roles=["approver"], groups=["cab"])
DAVE = Actor(username="dave", roles=["approver"], groups=["cab"])
ERIN = Actor(username="erin", roles=["approver"], groups=["cab"])
BOSS = Actor(username="boss", roles=["approver"], groups=["managers"])
SYSTEM = Actor.system("test")


def inline(text: str) -> PinnedDefinition:
    """A definition written in the test, validated like a published one."""
    result = from_data(yaml.safe_load(text))
    assert result.ok, [str(i) for i in result.issues]
    assert result.definition is not None
    return pin(result.definition, 1)


def fixture(name: str) -> PinnedDefinition:
    return pinned_fixture(name)


def start(
    pinned: PinnedDefinition,
    *,
    actor: Actor = ALICE,
    now: datetime = T0,
    title: str = "Printer on fire",
    parent_id: str | None = None,
    **fields: Any,
) -> tuple[ProcessEngine, Outcome]:
    return ProcessEngine.create(
        StartProcessInput(
            record_id="rec1",
            number="TST0000001",
            definition=pinned,
            actor=actor,
            title=title,
            fields=fields,
            parent_id=parent_id,
        ),
        now,
    )


def mini(**fields: Any) -> ProcessEngine:
    """A mini.yaml record (impact and urgency 2 unless given: priority 3, a 20 s resolution SLA)."""
    values = {"impact": "2", "urgency": "2", **fields}
    engine, _ = start(fixture("mini.yaml"), **{k: v for k, v in values.items() if v is not None})
    return engine


def fire(
    engine: ProcessEngine,
    actor: Actor,
    trigger: str,
    now: datetime = T0,
    comment: str | None = None,
    **fields: Any,
) -> Outcome:
    return engine.fire(FireTransitionInput(actor=actor, trigger=trigger, fields=fields, comment=comment), now)


def actions(out: Outcome) -> list[str]:
    return [e.action for e in out.events]


def answer_resolves(
    engine: ProcessEngine, out: Outcome, directory: dict[str, list[str]], now: datetime
) -> Outcome:
    """Answer the outcome's approver look-ups as the workflow would, from `directory` (group -> users)."""
    more = Outcome()
    for req in out.resolves:
        users = list(req.users)
        for group in req.groups:
            users += directory.get(group, [])
        more.extend(engine.approvers_resolved(req.task_id, list(dict.fromkeys(users)), now))
    return more


CAB = {"cab": ["carol", "dave", "erin"], "managers": ["boss"]}
