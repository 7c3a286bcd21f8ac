"""Field rights hold when the API is bypassed: a Temporal client starts and updates `ProcessWorkflow`
directly, and the workflow's own Update validators (the engine) refuse, naming the rule, writing nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from client.launch import launch_record
from definitions.loader import PinnedDefinition, load_text, pin
from tests.conftest import FIXTURES
from tests.engine_helpers import ALICE, BOB, Record, audit
from workflows.contracts import Actor, StartProcessInput, UpdateFieldsInput
from workflows.process import ProcessWorkflow

RIGHTS = """
field_rights:
  - fields: [builder]
    editors: {roles: [agent]}
    label: {zh: 构建人由处理人员指定, en: agents name the builder}
"""
LEAD = Actor(username="lead", roles=["agent"], groups=["desk"], language="zh")
ALICE_ZH = ALICE.model_copy(update={"language": "zh"})


def pinned() -> PinnedDefinition:
    result = load_text((FIXTURES / "mini.yaml").read_text(encoding="utf-8") + RIGHTS)
    assert result.definition is not None, result.issues
    return pin(result.definition, 1)


async def refused(coro: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await coro  # type: ignore[misc]
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def edit(record: Record, actor: Actor, **fields: object) -> object:
    return await record.handle.execute_update(
        ProcessWorkflow.update_fields, UpdateFieldsInput(actor=actor, fields=fields)
    )


async def test_the_workflow_refuses_what_the_rules_and_separation_of_duties_forbid(
    temporal_client: Client, db_engine: Engine, task_queue: str, worker: object
) -> None:
    snap = await launch_record(
        temporal_client, db_engine, task_queue=task_queue, pinned=pinned(), record_id=uuid.uuid4().hex[:20],
        title="Bypass attempts", fields={"impact": "2", "urgency": "2"}, actor=ALICE,
    )  # fmt: skip
    record = Record(temporal_client, snap)
    await record.fire(BOB, "accept", assignee="bob")

    # The rule: a requester may not name the builder, in her language.
    error = await refused(edit(record, ALICE_ZH, builder="alice"))
    assert error.type == "NotAllowed"
    assert (
        error.message
        == f"alice 不能修改 {snap.number} 的builder：仅处理人员可以修改（规则「构建人由处理人员指定」）"
    )
    await edit(record, BOB, builder="bob")

    # Separation of duties: bob, the builder the CAB approval excludes, may neither clear nor change it,
    # by an edit or with a transition's values.
    for value in (None, "lead"):
        error = await refused(edit(record, BOB, builder=value))
        assert error.type == "SeparationOfDuties" and "bob may not change builder" in error.message
    error = await refused(record.fire(BOB, "submit", plan="p", backout_plan="b", risk=2, builder="lead"))
    assert error.type == "SeparationOfDuties"
    # The requester may not rename the requester.
    error = await refused(edit(record, ALICE, requester="bob"))
    assert error.type == "SeparationOfDuties" and "alice may not change Requester" in error.message

    now = await record.snapshot()
    assert (
        now.state == "in_progress" and now.fields["builder"] == "bob" and now.fields["requester"] == "alice"
    )
    changed = [row.details for row in audit(db_engine, record.id) if row.action == "fields_changed"]
    assert changed == [{"fields": {"builder": "bob"}}]
    # Another agent may: the rule admits lead.
    await edit(record, LEAD, builder="lead")
    assert (await record.snapshot()).fields["builder"] == "lead"


async def test_a_workflow_started_directly_with_a_forbidden_value_is_refused(
    temporal_client: Client, task_queue: str, worker: object
) -> None:
    record_id = uuid.uuid4().hex[:20]
    inp = StartProcessInput(
        record_id=record_id, number="MIN-DIRECT", definition=pinned(), actor=ALICE, title="Direct",
        fields={"impact": "2", "urgency": "2", "builder": "alice"},
    )  # fmt: skip
    handle = await temporal_client.start_workflow(
        ProcessWorkflow.run, inp, id=record_id, task_queue=task_queue
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "NotAllowed"
    assert "agents name the builder" in cause.message
