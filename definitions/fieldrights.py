"""Field-level edit rights, as the language states them: which `field_rights` rules govern a field in a
state, and which fields separation of duties depends on.

Two controls meet here. A process owner's rules (`field_rights`) say who may change which fields in
which states. Under them lies a floor no rule can lower: a field an approval's separation of duties
reads (the requester always; the assignee or a `field:` an approval excludes) is protected from the
people it constrains once the record exists. Pure: the engine and the validator both read it.
"""

from __future__ import annotations

from definitions.model import Definition, FieldRight

# The requester is protected even where no approval excludes it: who asked for a record is who its
# controls hold to account (and who sees it), so nobody may hand their own request to someone else.
ALWAYS_PROTECTED = "requester"


def rules_for(definition: Definition, name: str, state: str) -> list[FieldRight]:
    """The rules that govern field `name` in `state` (none: the definition's `editors` do)."""
    return [
        rule
        for rule in definition.field_rights
        if name in rule.fields and (not rule.states or state in rule.states)
    ]


def excluded_field(exclusion: str) -> str:
    """The field an approval's exclusion reads: `requester`, `assignee` or `field:NAME`."""
    return exclusion.removeprefix("field:")


def protected_fields(definition: Definition) -> dict[str, list[str]]:
    """Field -> the names of the approval steps whose separation of duties reads it. The requester is
    always there, with the steps that exclude it (perhaps none)."""
    out: dict[str, list[str]] = {ALWAYS_PROTECTED: []}
    for step in definition.approvals:
        for exclusion in step.separation_of_duties.exclude:
            steps = out.setdefault(excluded_field(exclusion), [])
            if step.name not in steps:
                steps.append(step.name)
    return out
