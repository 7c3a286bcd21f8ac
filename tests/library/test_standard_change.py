"""definitions/library/standard_change.yaml — the catalogue of pre-approved standard change templates —
and its use by change.yaml, end to end through the API and straight through a Temporal client.

A standard change goes to `scheduled` without the CAB only when its `standard_template` names an
approved template (a checked reference field): free text, a draft, a template under review, a retired
one or another process's record is refused with the rule's words, in the caller's language."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from client.launch import pinned_definition
from core.converter import data_converter
from core.db import session_scope
from core.store import upsert_user
from tests.library.conftest import LIBRARY, LibraryApi, actions, error_paths, moves, set_active
from tests.library.test_change import PLANS, assessed, cab_extras  # noqa: F401 (the module's directory)
from tests.web.test_record_forms import HTMX, _hidden, _sign_in
from worker.registry import WORKFLOWS, sandbox_runner
from workflows.contracts import Actor, FireTransitionInput, StartProcessInput, UpdateFieldsInput
from workflows.process import ProcessWorkflow

TEMPLATE: dict[str, Any] = {
    "scope": "Raise one mailbox's quota up to 50 GB on request",
    "service": "E-mail",
    "implementation_plan": "Set the quota in the mail admin console; confirm with the user",
    "backout_plan": "Set the previous quota back",
    "risk": "low",
    "expected_duration": "PT30M",
    "review_date": "2026-09-01T09:00:00+08:00",
}
STANDARD = {k: PLANS[k] for k in ("affected_cis", "implementation_plan", "backout_plan", "implementer")}
WINDOW = {"risk": "low", "planned_start": PLANS["planned_start"], "planned_end": PLANS["planned_end"]}
RULE_EN = "Standard change template must name a record of Standard change templates in state"
RULE_ZH = "“标准变更模板”须引用标准变更模板中状态为“已批准（在目录中）”的记录"


async def draft_template(api: LibraryApi, title: str, author: str = "cm") -> dict[str, Any]:
    await api.ensure("standard_change", "change")
    rec = await api.started(author, "standard_change", title, **TEMPLATE)
    assert rec["number"].startswith("STD") and rec["state"] == "draft"
    return rec


async def approved_template(api: LibraryApi, title: str) -> dict[str, Any]:
    rec = await draft_template(api, title)
    rec = await api.fired("cm", rec["id"], "submit")
    task = await api.pending_task("cm", rec["id"], "template_approval")
    out = await api.decided("carol", task["id"])
    assert out["record"]["state"] == "approved"
    return dict(out["record"])


def zh_user(engine: Engine, name: str, roles: list[str]) -> str:
    """Someone who reads Chinese (the language is a profile setting)."""
    with session_scope(engine) as session:
        user = upsert_user(
            session, username=name, roles=roles, groups=[], language="zh", email=f"{name}@example.test"
        )
        user.active = True
        session.add(user)
    return name


async def test_a_template_is_approved_by_the_cab_never_its_author_and_revised_under_control(
    api: LibraryApi,
) -> None:
    rec = await draft_template(api, "Mailbox quota increase")
    std = rec["id"]
    # The plans, back-out plan included, and a review date are required before approval (003 §11.2).
    await api.set_fields("cm", std, backout_plan=None)
    r = await api.fire("cm", std, "submit")
    assert r.status_code == 422 and error_paths(r) == {"fields.backout_plan"}
    await api.set_fields("cm", std, backout_plan=TEMPLATE["backout_plan"])
    # A standard change is low-risk by definition: the template knows no other risk.
    r = await api.patch("cm", f"/api/v1/processes/{std}", {"fields": {"risk": "medium"}})
    assert r.status_code == 422 and error_paths(r) == {"fields.risk"}
    rec = await api.fired("cm", std, "submit")
    assert rec["state"] == "review"
    task = rec["approvals"][-1]
    assert task["step"] == "template_approval" and "cm" not in task["eligible"]
    assert {"carol", "dave", "erin"} <= set(task["eligible"])
    # Separation of duties: the author, though a change manager, does not approve their own template.
    r = await api.decide("cm", task["id"])
    assert r.status_code == 403 and "separation of duties" in r.json()["detail"], r.text
    # Under review (and in the catalogue) the content is read-only.
    r = await api.patch("cm", f"/api/v1/processes/{std}", {"fields": {"implementation_plan": "Anything"}})
    assert r.status_code == 422 and error_paths(r) == {"fields.implementation_plan"}
    out = await api.decided("carol", task["id"])
    assert out["record"]["state"] == "approved"
    # Revising takes it out of the catalogue, with a reason, and it needs approval again.
    r = await api.fire("cm", std, "revise")
    assert r.status_code == 422 and error_paths(r) == {"comment"}
    rec = await api.fired("cm", std, "revise", comment="Quota limit goes to 100 GB")
    assert rec["state"] == "draft"
    await api.set_fields("cm", std, scope="Raise one mailbox's quota up to 100 GB on request")
    rec = await api.fired("cm", std, "submit")
    out = await api.decided("dave", (await api.pending_task("cm", std, "template_approval"))["id"])
    assert out["record"]["state"] == "approved"
    rec = await api.fired("cm", std, "retire", comment="Replaced by self-service quotas")
    assert rec["state"] == "retired" and rec["final"] is True
    history = await api.history("cm", std)
    assert [t for t, *_ in moves(history)] == ["submit", "approve", "revise", "submit", "approve", "retire"]
    assert actions(history).count("approval_decision") == 2


async def test_the_catalogue_is_listed_with_existing_filters_and_the_field_spec_says_so(
    api: LibraryApi,
) -> None:
    approved = await approved_template(api, "Listed template")
    drafted = await draft_template(api, "Unlisted draft")
    # A requester lists the approved templates (the catalogue is visible to requesters).
    r = await api.get(
        "alice", "/api/v1/processes", params={"definition": "standard_change", "state": "approved"}
    )
    assert r.status_code == 200, r.text
    ids = {item["id"] for item in r.json()["items"]}
    assert approved["id"] in ids and drafted["id"] not in ids
    # The change's field spec says what standard_template refers to.
    chg = await assessed(api, "alice", "Field spec of a standard change", change_type="standard")
    offer = next(
        t for t in (await api.record("cm", chg))["available_transitions"] if t["trigger"] == "submit"
    )
    spec = next(f for f in offer["required_fields"] if f["name"] == "standard_template")
    assert spec["type"] == "reference" and spec["reference"] == "standard_change"
    assert spec["reference_states"] == ["approved"]


async def test_a_standard_change_from_an_approved_template_skips_the_cab(api: LibraryApi) -> None:
    template = await approved_template(api, "Add a mailbox quota")
    chg = await assessed(api, "alice", "Add a mailbox quota for the CFO", change_type="standard")
    r = await api.fire(
        "cm",
        chg,
        "submit",
        standard_template=template["number"],
        **STANDARD,
        risk="low",
        planned_start="2026-03-07T16:00:00+08:00",
        planned_end="2026-03-07T14:00:00+08:00",
    )
    assert r.status_code == 409 and "the planned end must be after the planned start" in r.json()["detail"]
    rec = await api.fired("cm", chg, "submit", standard_template=template["number"], **STANDARD, **WINDOW)
    # Pre-approved: straight to scheduled, no approval task at all.
    assert rec["state"] == "scheduled" and rec["approvals"] == []
    await api.fired("ian", chg, "start")
    await api.fired("ian", chg, "implemented", implementation_notes="Quota set")
    await api.fired("alice", chg, "confirm_success")  # the requester confirms the result
    await api.set_fields("cm", chg, cmdb_updated=True)
    rec = await api.fired("cm", chg, "close", review_notes="Standard change, no issues")
    assert rec["state"] == "completed"
    history = await api.history("cm", chg)
    assert not any(a.startswith("approval_") for a in actions(history))
    assert [t for t, *_ in moves(history)][:2] == ["assess", "submit"]


async def test_free_text_drafts_retired_templates_and_other_records_are_refused(
    api: LibraryApi, db_engine: Engine
) -> None:
    drafted = await draft_template(api, "Still a draft")
    retired = await approved_template(api, "Soon retired")
    await api.fired("cm", retired["id"], "retire", comment="Obsolete")
    other = await assessed(api, "alice", "A change is no template")
    chg = await assessed(api, "alice", "Try to skip the CAB", change_type="standard")
    for value, why in [
        ("STD-FREE-TEXT", "“STD-FREE-TEXT” is no record of Standard change templates"),
        (drafted["number"], f"{drafted['number']} is “Draft”"),
        (retired["id"], f"{retired['number']} is “Retired”"),
        (other, f"“{other}” is no record of Standard change templates"),
    ]:
        r = await api.fire("cm", chg, "submit", standard_template=value, **STANDARD, **WINDOW)
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert RULE_EN in detail and "“Approved (in the catalogue)”" in detail and why in detail, detail
        assert error_paths(r) == {"fields.standard_template"}
    # Setting it by an edit is refused alike, and nothing changed.
    r = await api.patch("cm", f"/api/v1/processes/{chg}", {"fields": {"standard_template": drafted["id"]}})
    assert r.status_code == 422 and RULE_EN in r.json()["detail"]
    rec = await api.record("cm", chg)
    assert rec["state"] == "assessment" and "standard_template" not in rec["fields"]
    # In the caller's language: a Chinese-speaking change manager reads the rule in Chinese.
    # A change manager of their own for this test, deactivated afterwards: other tests count who holds
    # the role (the change manager approval's eligible list).
    li = zh_user(db_engine, "li_cm", ["agent", "change_manager"])
    try:
        r = await api.fire(li, chg, "submit", standard_template=drafted["number"], **STANDARD, **WINDOW)
        assert r.status_code == 422, r.text
        assert RULE_ZH in r.json()["detail"] and f"{drafted['number']} 当前为“草稿”" in r.json()["detail"]
    finally:
        set_active(db_engine, [li], False)
    # A template retired after it was chosen no longer lets the change through at submission.
    template = await approved_template(api, "Retired after it was chosen")
    await api.set_fields("cm", chg, standard_template=template["number"], **STANDARD)
    await api.fired("cm", template["id"], "retire", comment="Withdrawn")
    r = await api.fire("cm", chg, "submit", **WINDOW)
    assert r.status_code == 422 and f"{template['number']} is “Retired”" in r.json()["detail"]
    assert (await api.record("cm", chg))["state"] == "assessment"


async def test_a_requester_cannot_make_a_change_standard_with_free_text(api: LibraryApi) -> None:
    await api.ensure("standard_change", "change")
    # At creation (the requester may choose the type then): the template must be in the catalogue.
    r = await api.start(
        "alice", "change", "My own standard change", change_type="standard", standard_template="MINE"
    )
    assert r.status_code == 422 and RULE_EN in r.json()["detail"], r.text
    assert error_paths(r) == {"fields.standard_template"}
    # Under assessment the change manager classifies: a requester may not retype a normal change.
    chg = await assessed(api, "ivan", "A normal change stays normal")
    r = await api.patch("ivan", f"/api/v1/processes/{chg}", {"fields": {"change_type": "standard"}})
    assert r.status_code == 403 and "classifies" in r.json()["detail"]
    r = await api.fire("ivan", chg, "submit", change_type="standard", standard_template="MINE", **PLANS)
    assert r.status_code == 403 and "classifies" in r.json()["detail"]
    assert (await api.record("cm", chg))["fields"]["change_type"] == "normal"


async def test_a_temporal_client_cannot_bypass_the_catalogue(
    api: LibraryApi, temporal_client: Client
) -> None:
    """Updates sent straight to the change's workflow: the workflow looks the template up itself."""
    drafted = await draft_template(api, "Draft used directly")
    chg = await assessed(api, "alice", "Bypass the API", change_type="standard")
    handle = temporal_client.get_workflow_handle(chg)
    cm = Actor(username="cm", roles=["agent", "change_manager"], groups=["change_management"], language="zh")
    fields = {"standard_template": drafted["id"], **STANDARD, **WINDOW}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            ProcessWorkflow.fire_transition, FireTransitionInput(actor=cm, trigger="submit", fields=fields)
        )
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidFields"
    assert RULE_ZH in cause.message and "草稿" in cause.message
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            ProcessWorkflow.update_fields,
            UpdateFieldsInput(
                actor=cm.model_copy(update={"language": "en"}), fields={"standard_template": "X-1"}
            ),
        )
    assert isinstance(refused.value.cause, ApplicationError) and RULE_EN in refused.value.cause.message
    rec = await api.record("cm", chg)
    assert rec["state"] == "assessment" and "standard_template" not in rec["fields"]
    # Approved, the same Update goes through.
    await api.fired("cm", drafted["id"], "submit")
    task = await api.pending_task("cm", drafted["id"], "template_approval")
    out = await api.decided("carol", task["id"])
    assert out["record"]["state"] == "approved"
    result = await handle.execute_update(
        ProcessWorkflow.fire_transition, FireTransitionInput(actor=cm, trigger="submit", fields=fields)
    )
    assert result.state == "scheduled"
    # The history — refusals, the look-ups' markers, the accepted submission — replays as it ran.
    replayer = Replayer(
        workflows=list(WORKFLOWS), workflow_runner=sandbox_runner(), data_converter=data_converter
    )
    await replayer.replay_workflow(await handle.fetch_history())


async def test_the_web_form_offers_the_catalogue_and_the_workflow_refuses_anything_else(
    api: LibraryApi,
) -> None:
    template = await approved_template(api, "Offered in the web form")
    drafted = await draft_template(api, "Not offered in the web form")
    chg = await assessed(api, "alice", "Standard change through the web page", change_type="standard")
    number = (await api.record("cm", chg))["number"]
    http = api.http
    await _sign_in(http, api, "cm")
    page = (await http.get(f"/ui/records/{number}")).text
    select = re.search(r'<select[^>]*name="f\.standard_template"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, "the submit form offers the templates as a choice"
    assert f'value="{template["number"]}"' in select.group(1)
    assert drafted["number"] not in select.group(1)
    # A value the form did not offer, posted anyway: the workflow refuses it with the rule.
    form = {"csrf": _hidden(page, "csrf"), "key": "std-web-1", "trigger": "submit"}
    fields = {"standard_template": drafted["number"], **STANDARD, **WINDOW}
    form.update({f"f.{k}": ", ".join(v) if isinstance(v, list) else v for k, v in fields.items()})
    r = await http.post(f"/ui/records/{number}/transitions", data=form, headers=HTMX)
    assert RULE_EN in html.unescape(r.text), r.text
    assert (await api.record("cm", chg))["state"] == "assessment"
    form.update({"key": "std-web-2", "f.standard_template": template["number"]})
    r = await http.post(f"/ui/records/{number}/transitions", data=form, headers=HTMX)
    assert r.status_code == 204, r.text
    assert (await api.record("cm", chg))["state"] == "scheduled"


async def test_publishing_checks_the_states_a_reference_names(api: LibraryApi) -> None:
    """The referenced process is published: a state it does not have is refused with its path."""
    await api.ensure("standard_change")
    source = (
        (LIBRARY / "change.yaml")
        .read_text(encoding="utf-8")
        .replace("key: change\n", "key: change_typo\n", 1)
    )
    source = source.replace("reference_states: [approved]", "reference_states: [aproved]", 1)
    r = await api.http.post(
        "/api/v1/definitions",
        content=source.encode("utf-8"),
        headers={**api.headers("owner"), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    r = await api.post("owner", f"/api/v1/definitions/change_typo/versions/{r.json()['version']}/publish")
    assert r.status_code == 422, r.text
    assert [e["path"] for e in r.json()["errors"]] == ["fields[2].reference_states[0]"]
    assert "'standard_change' has no state 'aproved'" in r.json()["detail"]


async def test_a_workflow_started_directly_checks_its_template_too(
    api: LibraryApi, temporal_client: Client, db_engine: Engine, task_queue: str
) -> None:
    """A Temporal client starting a standard change with free text: the run refuses it before anything
    is written (the API's launcher refuses it earlier, with the same words)."""
    await api.ensure("standard_change", "change")
    record_id = f"direct-{uuid.uuid4().hex[:12]}"
    inp = StartProcessInput(
        record_id=record_id,
        number="CHGDIRECT1",
        definition=pinned_definition(db_engine, "change"),
        actor=Actor(username="alice", roles=["requester"], language="zh"),
        title="Standard by decree",
        fields={"change_type": "standard", "standard_template": "STD-BY-DECREE"},
    )
    handle = await temporal_client.start_workflow(
        ProcessWorkflow.run, inp, id=record_id, task_queue=task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidFields"
    assert RULE_ZH in cause.message and "“STD-BY-DECREE”不是标准变更模板的记录" in cause.message
    r = await api.get("cm", f"/api/v1/processes/{record_id}")
    assert r.status_code == 404  # nothing was written
