"""A record flagged as a service interruption notes when it began and, when resolved, asks for its
outage to be recorded (the `record_outage` effect; the workflow runs the activity)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from definitions.loader import from_data
from tests.unit.engine.support import BOB, T0, actions, fire, inline, start
from workflows.contracts import UpdateFieldsInput

SOURCE = """
key: outage
title: {zh: 中断, en: Interruption}
number_prefix: OUT
owner: process_owner
editors: {roles: [agent]}
fields:
  - {name: service, type: string}
  - {name: service_interruption, type: bool, default: false}
  - {name: interruption_start, type: datetime}
states:
  - {name: new, category: new}
  - {name: resolved, category: resolved}
  - {name: closed, category: closed, final: true}
transitions:
  - trigger: resolve
    from: new
    to: resolved
    allowed: {roles: [agent]}
    effects:
      - record_outage: {flag: service_interruption, start_field: interruption_start}
  - {trigger: reopen, from: resolved, to: new}
  - {trigger: close, from: resolved, to: closed}
"""
M5, M9 = T0 + timedelta(minutes=5), T0 + timedelta(minutes=9)


def test_flagged_at_creation_the_interruption_begins_with_the_record_and_ends_at_resolution() -> None:
    engine, out = start(inline(SOURCE), service="ERP", service_interruption=True)
    assert engine.record.fields["interruption_start"] == T0.isoformat()
    assert out.events[-1].action == "fields_set" and out.events[-1].actor == "system:sla"
    resolved = fire(engine, BOB, "resolve", M9)
    (request,) = resolved.outages
    assert (request.service, request.start, request.end) == ("ERP", T0.isoformat(), M9.isoformat())
    noted = engine.outage_recorded(request, 7, M9)
    assert actions(noted) == ["outage_recorded"] and noted.events[0].details["outage"] == 7


def test_flagged_later_it_begins_when_flagged_and_a_start_entered_by_a_person_wins() -> None:
    engine, _ = start(inline(SOURCE), service="ERP")
    assert "interruption_start" not in engine.record.fields
    engine.update_fields(UpdateFieldsInput(actor=BOB, fields={"service_interruption": True}), M5)
    assert engine.record.fields["interruption_start"] == M5.isoformat()
    earlier = (T0 - timedelta(hours=1)).isoformat()
    engine.update_fields(UpdateFieldsInput(actor=BOB, fields={"interruption_start": earlier}), M5)
    (request,) = fire(engine, BOB, "resolve", M9).outages
    assert request.start == earlier


def test_an_unflagged_record_records_no_outage() -> None:
    engine, _ = start(inline(SOURCE), service="ERP")
    assert fire(engine, BOB, "resolve", M9).outages == []


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("{flag: service, start_field: interruption_start}", "record_outage.flag"),
        ("{flag: service_interruption, start_field: service}", "record_outage.start_field"),
        (
            "{flag: service_interruption, start_field: interruption_start, service_field: nope}",
            "service_field",
        ),
    ],
)
def test_the_effect_names_a_bool_flag_a_datetime_start_and_a_field(spec: str, path: str) -> None:
    import yaml

    text = SOURCE.replace("{flag: service_interruption, start_field: interruption_start}", spec)
    result = from_data(yaml.safe_load(text))
    assert not result.ok and any(path in i.path for i in result.issues), result.issues
