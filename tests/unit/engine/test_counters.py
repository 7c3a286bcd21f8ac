"""Counters in records (issue 20): declared by the definition, start at 0, only `increment` effects
change them (a person who sets one is refused in zh and en), guards read them, the history shows each
increment as a field change, and validation refuses counters that clash, are unknown or are `set`."""

from __future__ import annotations

import pytest
import yaml

from definitions.loader import from_data
from tests.unit.engine.support import BOB, fire, inline, start
from workflows.contracts import Actor, UpdateFieldsInput
from workflows.engine import Refusal, RefusalKind

DEFINITION = """
key: drill
title: {zh: 演练, en: Drill}
number_prefix: DRL
owner: process_owner
counters:
  - {name: times_reopened, label: {zh: 重新打开次数, en: Times reopened}, source: "JR/T 0074-2012 App. B.9"}
  - {name: drills_run, label: {zh: 已演练次数, en: Drills run}}
states:
  - {name: open, category: open}
  - {name: done, category: resolved}
  - {name: closed, category: closed, final: true}
transitions:
  - {trigger: finish, from: open, to: done, allowed: {roles: [agent]}, effects: [{increment: drills_run}]}
  - trigger: reopen
    from: done
    to: open
    allowed: {roles: [agent]}
    guard: {field: times_reopened, op: lt, value: 2}
    effects: [{increment: times_reopened}]
  - {trigger: close, from: done, to: closed, allowed: {roles: [agent]}}
"""


def test_counters_start_at_zero_count_and_guard() -> None:
    engine, _ = start(inline(DEFINITION), actor=BOB)
    assert engine.record.fields["times_reopened"] == 0 and engine.record.fields["drills_run"] == 0
    out = fire(engine, BOB, "finish")
    assert engine.record.fields["drills_run"] == 1
    counted = [e for e in out.events if e.action == "fields_set"]
    assert counted and counted[0].details == {"fields": {"drills_run": 1}, "by": "counter"}
    for _ in range(2):
        fire(engine, BOB, "reopen")
        fire(engine, BOB, "finish")
    assert (engine.record.fields["times_reopened"], engine.record.fields["drills_run"]) == (2, 3)
    # The guard reads the counter: a third reopen is refused.
    with pytest.raises(Refusal) as refused:
        fire(engine, BOB, "reopen")
    assert refused.value.kind == RefusalKind.GuardFailed


@pytest.mark.parametrize(("lang", "words"), [("en", "Times reopened"), ("zh", "重新打开次数")])
def test_people_cannot_set_a_counter(lang: str, words: str) -> None:
    with pytest.raises(Refusal) as at_start:
        start(
            inline(DEFINITION), actor=Actor(username="bob", roles=["agent"], language=lang), times_reopened=5
        )
    assert at_start.value.kind == RefusalKind.InvalidFields and words in at_start.value.message
    engine, _ = start(inline(DEFINITION), actor=BOB)
    actor = Actor(username="bob", roles=["agent"], language=lang)
    with pytest.raises(Refusal) as later:
        engine.check_update(UpdateFieldsInput(actor=actor, fields={"times_reopened": 9}))
    assert later.value.errors[0]["path"].endswith("times_reopened") and words in later.value.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["counters"].append({"name": "title"}), "'title' is already a field"),
        (lambda d: d["transitions"][0]["effects"].append({"increment": "nope"}), "unknown counter 'nope'"),
        (
            lambda d: d["transitions"][0]["effects"].append({"set": {"drills_run": 3}}),
            "only `increment` changes it",
        ),
    ],
)
def test_validation_refuses_bad_counters(change: object, message: str) -> None:
    data = yaml.safe_load(DEFINITION)
    change(data)  # type: ignore[operator]
    result = from_data(data)
    assert not result.ok and any(message in str(i) for i in result.issues), [str(i) for i in result.issues]
