"""Checked reference fields: the language (`reference_states`, validated with paths), which values an
action needs looked up, and the engine's refusal of a value naming no record, another process's record
or one in a state not allowed — by the field's label and the rule, in the caller's language."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from definitions.loader import from_data
from tests.unit.engine.support import BOB, inline, start
from workflows.contracts import (
    Actor,
    FireTransitionInput,
    ReferencedProcess,
    ReferencedRecord,
    ResolveReferencesResult,
)
from workflows.engine import Refusal

SOURCE = """
key: works
title: Works
number_prefix: WRK
owner: process_owner
fields:
  - name: template
    type: reference
    reference: catalogue
    reference_states: [approved]
    label: {zh: 模板, en: Template}
  - {name: related, type: reference, reference: incident}
  - {name: plan, type: text}
states:
  - {name: new, category: new}
  - {name: planned, category: open}
  - {name: other, category: open}
  - {name: done, category: closed, final: true}
transitions:
  - {trigger: plan, from: new, to: planned, allowed: {roles: [agent]}, required_fields: [template]}
  - {trigger: side, from: new, to: other, allowed: {roles: [agent]}}
  - {trigger: finish, from: [planned, other], to: done, allowed: {roles: [agent]}}
"""
WORDS = ReferencedProcess(
    key="catalogue",
    title={"zh": "模板目录", "en": "Template catalogue"},
    states={"approved": {"zh": "已批准", "en": "Approved"}, "draft": {"zh": "草稿", "en": "Draft"}},
)


def found(*records: ReferencedRecord) -> ResolveReferencesResult:
    return ResolveReferencesResult(found=list(records), processes=[WORDS])


def record(ref: str, definition: str = "catalogue", state: str = "approved") -> ReferencedRecord:
    return ReferencedRecord(ref=ref, id="id-" + ref, number=ref, definition=definition, state=state)


def issues(patch: dict[str, Any]) -> list[str]:
    data = yaml.safe_load(SOURCE)
    data["fields"][0].update(patch)
    result = from_data(data)
    return [i.path for i in result.issues]


def test_the_language_takes_reference_states_on_reference_fields_only() -> None:
    assert issues({}) == []
    assert "fields[0].reference_states" in issues({"reference_states": []})
    assert "fields[0].reference_states" in issues({"type": "string", "reference": None})
    assert any(
        p.startswith("fields[0].reference_states") for p in issues({"reference_states": ["Not A Name"]})
    )


def test_only_checked_reference_values_are_looked_up() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    assert engine.references_in({"template": "CAT1", "related": "INC1", "plan": "x"}) == {"template": "CAT1"}
    assert engine.references_in({"template": None}) == {}
    # Firing: the values sent, and those the transition taken requires, as the record holds them.
    engine.record.fields["template"] = "CAT9"
    assert engine.references_to_fire(FireTransitionInput(actor=BOB, trigger="plan")) == {"template": "CAT9"}
    sent = FireTransitionInput(actor=BOB, trigger="plan", fields={"template": "CAT2"})
    assert engine.references_to_fire(sent) == {"template": "CAT2"}
    # A transition that does not need the template never looks it up (a retired one does not block it).
    assert engine.references_to_fire(FireTransitionInput(actor=BOB, trigger="side")) == {}
    # A move the rules refuse anyway asks for nothing beyond the values sent.
    alice = Actor(username="alice", roles=["requester"])
    assert engine.references_to_fire(FireTransitionInput(actor=alice, trigger="plan")) == {}


@pytest.mark.parametrize(
    ("result", "lang", "words"),
    [
        (
            found(),
            "en",
            "Template must name a record of Template catalogue in state “Approved”: “CAT1” is no record",
        ),
        (found(record("CAT1", definition="incident")), "en", "“CAT1” is no record of Template catalogue"),
        (
            found(record("CAT1", state="draft")),
            "en",
            "Template must name a record of Template catalogue in state “Approved”: CAT1 is “Draft”",
        ),
        (
            found(record("CAT1", state="draft")),
            "zh-CN",
            "“模板”须引用模板目录中状态为“已批准”的记录：CAT1 当前为“草稿”",
        ),
        (found(), "zh", "：“CAT1”不是模板目录的记录"),
    ],
)
def test_a_bad_reference_is_refused_by_its_label_and_rule(
    result: ResolveReferencesResult, lang: str, words: str
) -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    with pytest.raises(Refusal) as refused:
        engine.check_references({"template": "CAT1"}, result, lang)
    assert refused.value.kind == "InvalidFields" and words in refused.value.message
    assert [e["path"] for e in refused.value.errors] == ["fields.template"]


def test_an_allowed_record_passes_and_words_fall_back_to_names() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    engine.check_references({"template": "CAT1"}, found(record("CAT1")), "en")
    with pytest.raises(Refusal) as refused:  # the referenced process is not published: its names
        engine.check_references({"template": "CAT1"}, ResolveReferencesResult(), "en")
    assert "Template must name a record of catalogue in state “approved”" in refused.value.message
