"""`act_on_linked` effects are checked statically (issue 20): the field must name linked records, and an
action on records of the same process (which could loop back: A acts on B acts on A) is refused."""

from __future__ import annotations

import pytest
import yaml

from definitions.loader import from_data

BASE = """
key: prob
title: {zh: 问题, en: Problem}
number_prefix: PRB
owner: process_owner
fields:
  - {name: incidents, type: list, item_type: reference, reference: incident}
  - {name: twin, type: reference, reference: prob}
  - {name: note, type: text}
states:
  - {name: open, category: open}
  - {name: closed, category: closed, final: true}
transitions:
  - {trigger: close, from: open, to: closed, allowed: {roles: [agent]}, effects: [ACT]}
"""


def _issues(act: str) -> list[str]:
    result = from_data(yaml.safe_load(BASE.replace("ACT", act)))
    return [str(i) for i in result.issues]


def test_an_action_on_linked_incidents_is_valid() -> None:
    assert _issues("{act_on_linked: {field: incidents, trigger: resume}}") == []


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("note", "'note' is not a reference field"),
        ("nothing", "'nothing' is not a reference field"),
        ("twin", "could loop back here"),
    ],
)
def test_bad_linked_actions_are_refused(field: str, message: str) -> None:
    issues = _issues(f"{{act_on_linked: {{field: {field}, trigger: close}}}}")
    assert any("act_on_linked.field" in i and message in i for i in issues), issues
