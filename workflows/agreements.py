"""A new record's service level agreement (issue 21): the workflow asks the read model which agreement
covers the record's service and requester (a local activity, recorded in the history, so a replay picks
the same one) and runs its `response` and `resolution` clocks on that agreement's targets and service
hours instead of the definition's, and adds the agreement's operational-level clocks (OLAs: targets per
support group, restarting when the record moves to another group). The record keeps them: the changed
pinned definition travels with continue-as-new, and a later version of the agreement never reaches a
running record (a re-prioritised record takes the new priority's target of the agreement it started
with)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.calendar import BusinessCalendar
    from definitions.loader import PinnedDefinition, definition_hash
    from definitions.model_base import I18nText
    from workflows import patches
    from workflows.calls import DB_RETRY, DB_TIMEOUT
    from workflows.contracts import Actor, Contract, RecordState, StartProcessInput
    from workflows.engine import Outcome, ProcessEngine
    from workflows.sla import GROUP_FIELD

CLOCK_TARGETS = {"response": "response_minutes", "resolution": "resolution_minutes"}
# The operational-level clock each agreement clock gets when the agreement has OLAs, and its label.
OLA_CLOCKS = {
    "response": (
        "ola_response",
        I18nText(zh="运营级别响应时限（OLA）", en="Operational response target (OLA)"),
    ),
    "resolution": (
        "ola_resolution",
        I18nText(zh="运营级别解决时限（OLA）", en="Operational resolution target (OLA)"),
    ),
}


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
    olas: dict[str, dict[str, int]] = Field(default_factory=dict)  # support group -> minutes per clock


async def select(inp: SelectAgreementInput) -> SelectAgreementResult:
    result: SelectAgreementResult = await workflow.execute_local_activity(
        "select_agreement",
        inp,
        result_type=SelectAgreementResult,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return result


def applied(
    pinned: PinnedDefinition, agreement: SelectAgreementResult, *, olas: bool = False
) -> PinnedDefinition:
    """The pinned definition with the agreement's targets and service hours on its clocks; with `olas`,
    an operational-level clock per agreement clock, with the support groups' targets, running, pausing
    and stopping where the agreement clock does, in the same service hours."""
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
        group_targets = {g: timedelta(minutes=t[minutes]) for g, t in agreement.olas.items()}
        if olas and group_targets and all(s.name != OLA_CLOCKS[sla.name][0] for s in d.slas):
            name, label = OLA_CLOCKS[sla.name]
            update: dict[str, Any] = {
                "name": name,
                "label": label,
                "target_field": GROUP_FIELD,
                "targets": group_targets,
                "default_target": None,
                "calendar": calendar_name,
                "calendars": {},
                "thresholds": [],
            }
            slas.append(sla.model_copy(update=update))
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
    # Operational-level clocks came later: records started before them replay without (a patch).
    olas = bool(found.olas) and workflow.patched(patches.SLA_OLAS)
    inp = inp.model_copy(update={"definition": applied(inp.definition, found, olas=olas)})
    # The same input as a moment ago with other targets: the creation cannot be refused now.
    engine, startup = ProcessEngine.create(inp, now)
    for sla in inp.definition.definition.slas:
        if sla.calendar == f"agreement_{found.key}" and sla.name in engine.record.slas:
            clock = engine.record.slas[sla.name]
            clock.agreement, clock.agreement_version = found.key, found.version
    details: dict[str, Any] = {"agreement": found.key, "version": found.version}
    if olas:
        details["olas"] = sorted(found.olas)
    engine.note(startup, now, Actor.system("sla"), "sla_agreement", details)
    return inp, engine, startup
