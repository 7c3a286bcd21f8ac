"""Every message a definition's checks can word has its Chinese (definitions/issue_words.py).

The test reads the checks' code: each message given to `add(...)`, `Issue(...)`, `ValueError(...)` or
`LimitExceeded(...)` in the definition language's modules, as a template (f-string parts become
parameters), filled with sample values; each must match a template of the catalogue and come out in
Chinese. A new check without its Chinese fails here.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from definitions import issue_words
from definitions.issues import Issue
from definitions.loader import load_text

ROOT = Path(__file__).resolve().parents[3] / "definitions"
CHECKS = [
    "validate.py",
    "validate_steps.py",
    "validate_outage.py",
    "loader.py",
    "limits.py",
    "model.py",
    "model_parts.py",
    "calendar.py",
    "shared_calendars.py",
]
# Raised for a program's mistake, never for a definition's text (nobody editing YAML meets them).
NOT_FOR_OWNERS = {
    "{0} must be a timezone-aware datetime, got naive {1}",
    "duration must not be negative, got {0}",
    "no working time in the calendar within {0} days from {1} (are all days holidays?)",
}
# A message that only puts another one in context: its words are the other message's.
WRAPPERS = {"weekly.{0}: {1}"}
CALLS = {"add", "Issue", "ValueError", "LimitExceeded"}


def _template(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace("{", "{{").replace("}", "}}")
    if isinstance(node, ast.JoinedStr):
        out, n = "", 0
        for part in node.values:
            if isinstance(part, ast.Constant):
                out += str(part.value).replace("{", "{{").replace("}", "}}")
            else:
                out += "{" + str(n) + "}"
                n += 1
        return out
    return None


def _messages() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in CHECKS:
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            template = _template(node.args[-1]) if called in CALLS else None
            if template and template not in NOT_FOR_OWNERS and (name, template) not in found:
                found.append((name, template))
    return found


MESSAGES = _messages()


def test_the_scan_finds_the_checks() -> None:
    assert len(MESSAGES) > 80


@pytest.mark.parametrize(("module", "template"), MESSAGES, ids=[f"{m}:{t[:40]}" for m, t in MESSAGES])
def test_every_check_message_has_its_chinese(module: str, template: str) -> None:
    count = sum(1 for _, field, _, _ in string.Formatter().parse(template) if field is not None)
    message = template.format(*[f"v{i}" for i in range(count)])
    assert issue_words.known(message), f"{module}: no template for {message!r}"
    zh = issue_words.chinese(message)
    assert zh != message, f"{module}: {message!r} stays English"
    if template not in WRAPPERS:
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{module}: {message!r} stays English"
    for i in range(count):
        assert f"v{i}" in zh, f"{module}: the Chinese of {message!r} drops a parameter: {zh!r}"


def test_a_loaded_definitions_issues_come_in_chinese_with_their_hints() -> None:
    source = """\
key: demo
title: {zh: 演示, en: Demo}
number_prefix: DEM
owner: process_owner
extra_key: 1
fields:
  - {name: impact, type: enum, values: ["1", "2"]}
states:
  - {name: new, category: new}
  - {name: done, category: closed, final: true}
transitions:
  - {trigger: finish, from: new, to: donne, allowed: {roles: [agent]}}
"""
    result = load_text(source)
    assert [i.text("zh") for i in result.issues] == ["不认识这个键（拼写有误，或放错了位置？）"]
    result = load_text(source.replace("extra_key: 1\n", ""))
    (issue,) = [i for i in result.issues if i.path == "transitions[0].to"]
    assert issue.message == "unknown state 'donne' (did you mean 'done'?)"
    assert issue.text("zh") == "未知状态 'donne'（是否指 'done'？）"
    assert issue.text("en") == issue.message
    wrong = load_text(source.replace("extra_key: 1\n", "").replace("category: new}", "category: fresh}"))
    (choice,) = [i for i in wrong.issues if i.path == "states[0].category"]
    assert choice.text("zh").startswith("应为 'new'、'open'")


def test_a_field_values_own_chinese_is_kept() -> None:
    issue = Issue("fields[0].default", "expected a whole number", "应为整数")
    assert issue.text("zh") == "应为整数" and issue.text("en") == "expected a whole number"


def test_an_unknown_message_stays_as_it_is() -> None:
    assert issue_words.chinese("something new") == "something new"
    assert not issue_words.known("something new")
