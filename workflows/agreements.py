"""A new record's service level agreement (issue 21): the workflow asks the read model which agreement
covers the record's service and requester (a local activity, recorded in the history, so a replay picks
the same one) and runs its `response` and `resolution` clocks on that agreement's targets and service
hours instead of the definition's. The record keeps them: the changed pinned definition travels with
continue-as-new, and a later version of the agreement never reaches a running record (a re-prioritised
record takes the new priority's target of the agreement it started with)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.calendar import BusinessCalendar
    from definitions.loader import PinnedDefinition, definition_hash
    from workflows import patches
    from workflows.calls import DB_RETRY, DB_TIMEOUT
    from workflows.contracts import Actor, Contract, RecordState, StartProcessInput
    from workflows.engine import Outcome, ProcessEngine

CLOCK_TARGETS = {"response": "response_minutes", "resolution": "resolution_minutes"}


class SelectAgreementInput(Contract):
    record_id: str | None = None  # noted with the agreement found, for the service report
    service: Any = None  # the record's `service` field: a CI id or a service name
    requester: str | None = None
    on: date


class SelectAgreementResult(Contract):
    key: str | None = None  # None: no agreement covers the record, the definition's targets apply
    version: int = 0
    targets: dict[str, dict[str, int]] = Field(default_factory=dict)  # priority -> minutes per clock
    calendar: BusinessCalendar | None = None


async def select(inp: SelectAgreementInput) -> SelectAgreementResult:
    result: SelectAgreementResult = await workflow.execute_local_activity(
        "select_agreement",
        inp,
        result_type=SelectAgreementResult,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return result


def applied(pinned: PinnedDefinition, agreement: SelectAgreementResult) -> PinnedDefinition:
    """The pinned definition with the agreement's targets and service hours on its clocks."""
    d = pinned.definition
    if agreement.key is None or agreement.calendar is None:
        return pinned
    calendar_name = f"agreement_{agreement.key}"
    slas = []
    for sla in d.slas:
        minutes = CLOCK_TARGETS.get(sla.name)
        if minutes is None or sla.target_field != "priority":
            slas.append(sla)
            continue
        targets = {p: timedelta(minutes=t[minutes]) for p, t in agreement.targets.items()}
        slas.append(sla.model_copy(update={"targets": targets, "calendar": calendar_name, "calendars": {}}))
    calendars = {**d.calendars, calendar_name: agreement.calendar}
    definition = d.model_copy(update={"slas": slas, "calendars": calendars})
    return PinnedDefinition(
        key=pinned.key, version=pinned.version, hash=definition_hash(definition), definition=definition
    )


async def run_on_agreement(
    inp: StartProcessInput, record: RecordState
) -> tuple[StartProcessInput, ProcessEngine, Outcome] | None:
    """The new record made again on the agreement covering its service and requester, with an audit
    event naming the agreement; None when no agreement covers it (the definition's targets apply).
    Behind a patch: records started before agreements existed replay without the look-up."""
    if not any(s.name in CLOCK_TARGETS for s in inp.definition.definition.slas):
        return None
    if not workflow.patched(patches.SLA_AGREEMENTS):
        return None
    now = record.created_at
    found = await select(
        SelectAgreementInput(
            record_id=record.record_id,
            service=record.fields.get("service"),
            requester=record.fields.get("requester"),
            on=now.date(),
        )
    )
    if found.key is None:
        return None
    inp = inp.model_copy(update={"definition": applied(inp.definition, found)})
    # The same input as a moment ago with other targets: the creation cannot be refused now.
    engine, startup = ProcessEngine.create(inp, now)
    details = {"agreement": found.key, "version": found.version}
    engine.note(startup, now, Actor.system("sla"), "sla_agreement", details)
    return inp, engine, startup
