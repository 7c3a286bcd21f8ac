"""Who a `Permission` admits: the one implementation the engine and the web page both use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from definitions.model import Definition, Permission


def permits(
    definition: Definition,
    perm: Permission,
    *,
    username: str,
    roles: Iterable[str],
    groups: Iterable[str],
    fields: Mapping[str, Any],
) -> bool:
    """True when the user holds a listed role or group, is a listed user, or stands in a listed relation
    to the record: requester / assignee / a user field (their name), or the assignment group / a group
    field (one of their groups)."""
    groups = set(groups)
    if set(roles) & set(perm.roles) or groups & set(perm.groups) or username in perm.users:
        return True
    for relation in perm.relations:
        name = relation.removeprefix("field:")
        value = fields.get(name)
        if relation == "assignment_group" or definition.field_type(name) == "group":
            if value and value in groups:
                return True
        elif value == username or (isinstance(value, list) and username in value):
            return True
    return False
