"""The `visibility:` section of the language: its shape and its meaning checks, each with a path."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.loader import from_data
from tests.unit.definitions.test_definitions import issues_of, mini


def test_a_definition_without_visibility_keeps_the_global_rule() -> None:
    result = from_data(mini())
    assert result.ok and result.definition is not None and result.definition.visibility is None


def test_visibility_names_roles_and_groups() -> None:
    data = mini()
    data["visibility"] = {"roles": ["implementer", "auditor"], "groups": ["soc"]}
    result = from_data(data)
    assert result.ok, result.issues
    assert result.definition is not None and result.definition.visibility is not None
    assert result.definition.visibility.roles == ["implementer", "auditor"]
    data["visibility"] = {}  # participants only
    assert issues_of(data) == []


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        (
            {"roles": ["implementor"]},
            "visibility.roles[0]: unknown role 'implementor' (did you mean 'implementer'?)",
        ),
        ({"roles": ["agent", "agent"]}, "visibility.roles[1]: 'agent' is listed twice"),
        ({"groups": ["soc", "soc"]}, "visibility.groups[1]: 'soc' is listed twice"),
        ({"groups": [""]}, "visibility.groups[0]: String should have at least 1 character"),
        ({"groups": ["a b"]}, "visibility.groups[0]: String should match pattern"),
        ({"users": ["x"]}, "visibility.users: Extra inputs are not permitted"),
        ({"roles": "agent"}, "visibility.roles: Input should be a valid list"),
    ],
)
def test_visibility_errors_name_the_path(visibility: Any, expected: str) -> None:
    data = mini()
    data["visibility"] = visibility
    found = issues_of(data)
    assert any(issue.startswith(expected) for issue in found), found
